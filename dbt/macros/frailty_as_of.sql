{#-
  Frailty per person as of `as_of_date` (a SQL date expression), from dated facts, so the
  same rule gives today's frailty (int_frailty) and last year's (the risk back-test):

  - efi_deficit_count: deficits (int_frailty_deficits_all) first evidenced on or before the date;
  - efi_style_score = efi_deficit_count / 36 (the eFI denominator; a lower bound of the
    full eFI, since not every deficit is observable in these extracts);
  - computed band: fit <= 0.12 < mild <= 0.24 < moderate <= 0.36 < severe (Clegg 2016);
  - coded band: the latest frailty severity code (MILD/MOD/SEVFRAIL_COD) or recorded eFI
    score (EFI_COD, banded with the same cut-offs) in the 24 months up to the date;
  - frailty_band: the more severe of the computed and coded bands (the clinical band);
  - frailty_evidence_score: the eFI-style score, or the coded band's score when higher
    (the middle of its eFI range: mild 0.18, moderate 0.30, severe 0.42; a recorded eFI
    score as recorded) - what the risk model ranks within each period (macro
    risk_features_as_of), because coding of frailty matures over the years and an
    absolute band fitted in one year means something else in the next.
  Everyone with any evidence gets a row; the caller applies the 65+ rule.
-#}
{% macro frailty_as_of(as_of_date) -%}
    with deficit_counts as (
        select pseudo_id, count(*) as efi_deficit_count
        from {{ ref('int_frailty_deficits_all') }}
        where first_evidence_date <= {{ as_of_date }}
        group by pseudo_id
    ),

    coded as (
        select
            pseudo_id,
            case
                when measure = 'frailty_code' then status_value
                when value > {{ param('efi_severe_threshold') }} then 'severe'
                when value > {{ param('efi_moderate_threshold') }} then 'moderate'
                when value > {{ param('efi_mild_threshold') }} then 'mild'
                else 'fit'
            end as coded_frailty_band,
            case
                when measure = 'efi_score' then value
                when status_value = 'severe' then 0.42
                when status_value = 'moderate' then 0.30
                when status_value = 'mild' then 0.18
                else 0
            end as coded_frailty_score
        from {{ ref('int_observations_all') }}
        where measure in ('frailty_code', 'efi_score')
          and event_date <= {{ as_of_date }}
          and event_date > ({{ as_of_date }} - to_months({{ param('frailty_code_lookback_months', 'integer') }}))
        qualify row_number() over (
            partition by pseudo_id order by event_date desc, priority, value desc nulls last) = 1
    ),

    people as (
        select pseudo_id from deficit_counts
        union select pseudo_id from coded
    ),

    scored as (
        select
            people.pseudo_id,
            coalesce(deficit_counts.efi_deficit_count, 0) as efi_deficit_count,
            coalesce(deficit_counts.efi_deficit_count, 0)
                / {{ param('efi_deficit_denominator') }} as efi_style_score,
            coded.coded_frailty_band,
            coded.coded_frailty_score
        from people
        left join deficit_counts on deficit_counts.pseudo_id = people.pseudo_id
        left join coded on coded.pseudo_id = people.pseudo_id
    ),

    banded as (
        select
            *,
            case
                when efi_style_score > {{ param('efi_severe_threshold') }} then 'severe'
                when efi_style_score > {{ param('efi_moderate_threshold') }} then 'moderate'
                when efi_style_score > {{ param('efi_mild_threshold') }} then 'mild'
                else 'fit'
            end as computed_frailty_band
        from scored
    )

    select
        *,
        {{ frailty_band_severity_order() }}[greatest(
            list_position({{ frailty_band_severity_order() }}, computed_frailty_band),
            coalesce(list_position({{ frailty_band_severity_order() }}, coded_frailty_band), 1)
        )] as frailty_band,
        greatest(efi_style_score, coalesce(coded_frailty_score, 0)) as frailty_evidence_score
    from banded
{%- endmacro %}

{% macro frailty_band_severity_order() -%}
    ['fit', 'mild', 'moderate', 'severe']
{%- endmacro %}
