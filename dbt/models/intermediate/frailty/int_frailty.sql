-- Frailty as of the reference date for people aged 65 and over (NHS England GMS contract:
-- frailty identification with the eFI for 65+): an eFI-style deficit count and score, the
-- latest coded frailty assessment, and the fit / mild / moderate / severe band (the more
-- severe of computed and coded). See macro frailty_as_of for the rule; thresholds from
-- seed rule_parameters (Clegg et al. Age Ageing 2016 cut-offs 0.12 / 0.24 / 0.36).
with frailty as (
    {{ frailty_as_of(reference_date()) }}
),

people_65_and_over as (
    select
        attributes.pseudo_id,
        {{ age_at('attributes.birth_month', reference_date()) }} as age
    from {{ ref('int_person_attributes') }} as attributes
    where {{ age_at('attributes.birth_month', reference_date()) }} >= {{ param('frailty_min_age', 'integer') }}
)

select
    people_65_and_over.pseudo_id,
    coalesce(frailty.efi_deficit_count, 0) as efi_deficit_count,
    coalesce(frailty.efi_style_score, 0) as efi_style_score,
    coalesce(frailty.computed_frailty_band, 'fit') as computed_frailty_band,
    frailty.coded_frailty_band,
    coalesce(frailty.frailty_band, 'fit') as frailty_band
from people_65_and_over
left join frailty on frailty.pseudo_id = people_65_and_over.pseudo_id
