-- Protect NoW: seasonal influenza vaccination, as of the reference date.
-- The groups, exclusions, their national sources and dates are documented beside their SQL
-- in int_cohort_flu_vaccination_rules; they are composed by cohort_composed (macros/
-- cohort_composition.sql, shared with mart_outreach_eligible_population): any inclusion (a
-- group whose campaign has started) and no exclusion (vaccinated or declined this season).
-- clinical_priority: the number of eligible groups met (more reasons, more risk).
with population as (
    select * from {{ ref('int_cohort_population') }}
),

season as (
    select * from {{ ref('int_flu_season') }}
    where is_open
),

rules as (
    select * from {{ ref('int_cohort_flu_vaccination_rules') }}
),

eligible as (
    select pseudo_id
    from rules
    group by pseudo_id
    having {{ cohort_composed('flu_vaccination') }}
),

evidence as (
    select rules.*
    from rules
    inner join eligible on eligible.pseudo_id = rules.pseudo_id
    where rules.rule_kind = 'inclusion'
)

select
    evidence.pseudo_id,
    population.practice_code,
    -- the first group met, in the order outreach teams script for
    case
        when bool_or(evidence.rule_id = 'care_home_resident') then 'care_home_resident'
        when bool_or(evidence.rule_id = 'aged_65_and_over') then 'aged_65_and_over'
        when bool_or(evidence.rule_id like 'clinical_risk_group:%') then 'clinical_risk_group'
        when bool_or(evidence.rule_id = 'pregnant') then 'pregnant'
        when bool_or(evidence.rule_id = 'carer') then 'carer'
        when bool_or(evidence.rule_id = 'household_contact_of_immunosuppressed') then 'household_contact'
        else 'child_aged_2_or_3'
    end as eligibility_group,
    cast(count(*) as double) as clinical_priority,
    {{ cohort_reason_columns() }},
    any_value(season.season_id) as season_id,
    {{ reference_date() }} as reference_date
from evidence
inner join population on population.pseudo_id = evidence.pseudo_id
cross join season
group by evidence.pseudo_id, population.practice_code
