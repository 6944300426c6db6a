{#-
  Emergency-admission risk: the features of a population as of a date, and the
  prediction from them. The same two macros score today's population (mart_risk, as of
  the reference date) and last year's (int_risk_backtest, as of the reference date less
  12 months, whose admissions since are known), so the calibration table checks exactly
  the formula in use.

  Features as of date D (`population` gives pseudo_id, birth_month, sex, imd_quintile):
    risk_age_band                 age on D: 00-17, 18-39, 40-59, 60-69, 70-79, 80-89, 90+
    sex                           F / M / U
    risk_frailty_band             65+ on D: fit / mild / moderate / severe calibrated
                                  within the period (macro frailty_as_of: the 65+ on D
                                  ranked by frailty evidence and cut at the eFI's
                                  population shares), so the coefficients do not carry
                                  the coding regime of the year they were fitted in;
                                  under 65: not_assessed
    imd_quintile_level            1..5, or 'unknown'
    ltc_count                     long-term conditions (counts_as_ltc) with a diagnosis code
                                  on or before D not undone by a later resolved code
    prior_emergency_admissions    emergency admissions in the 12 months up to D
    palliative_care               1 when the latest palliative care code (PALCARE_COD /
                                  PALCARENI_COD) in the 12 months up to D says palliative

  Prediction (a Poisson rate model; coefficients in seed risk_coefficients):
    log(expected emergency admissions in the next 12 months) =
        intercept + b[age band] + b[sex] + b[frailty band] + b[IMD quintile]
        + b_ltc * min(ltc_count, risk_mm_cap)
        + b_prior * min(prior_emergency_admissions, risk_prior_admissions_cap)
        + b_palliative * palliative_care
    risk_probability = P(at least one emergency admission) = 1 - exp(-expected)
-#}
{% macro risk_features_as_of(as_of_date, population) -%}
    with population as (
        {{ population }}
    ),

    ltc_history as (
        select
            events.pseudo_id,
            events.condition,
            max(case when events.role = 'diagnosis' then events.event_date end) as latest_diagnosis_date,
            max(case when events.role = 'resolved' then events.event_date end) as latest_resolved_date
        from {{ ref('int_condition_events_all') }} as events
        inner join {{ ref('register_rules') }} as rules
            on rules.condition = events.condition and rules.counts_as_ltc
        where events.event_date <= {{ as_of_date }}
        group by events.pseudo_id, events.condition
    ),

    ltc_counts as (
        select pseudo_id, count(*) as ltc_count
        from ltc_history
        where latest_diagnosis_date is not null
          and (latest_resolved_date is null or latest_diagnosis_date > latest_resolved_date)
        group by pseudo_id
    ),

    prior_admissions as (
        select pseudo_id, count(*) as prior_emergency_admissions
        from {{ ref('int_hospital_activity_all') }}
        where activity_type = 'emergency_admission'
          and activity_date <= {{ as_of_date }}
          and activity_date > ({{ as_of_date }} - to_months({{ param('activity_lookback_months', 'integer') }}))
        group by pseudo_id
    ),

    palliative as (
        select pseudo_id, status_value = 'palliative' as is_palliative
        from {{ ref('int_observations_all') }}
        where measure = 'palliative_care'
          and event_date <= {{ as_of_date }}
          and event_date > ({{ as_of_date }} - to_months({{ param('palliative_care_lookback_months', 'integer') }}))
        qualify row_number() over (partition by pseudo_id order by event_date desc, priority) = 1
    ),

    frailty as (
        {{ frailty_as_of(as_of_date) }}
    ),

    aged as (
        select population.*, {{ age_at('population.birth_month', as_of_date) }} as age
        from population
    ),

    -- frailty calibrated within the period: the 65+ on D ranked by their frailty evidence
    -- (eFI-style score, or the coded band's score when higher); the top shares get the
    -- severe / moderate / mild bands at the eFI's population distribution. Ties share a
    -- rank, so people without evidence stay fit however coding changes.
    frailty_ranked as (
        select
            aged.pseudo_id,
            percent_rank() over (order by coalesce(frailty.frailty_evidence_score, 0)) as frailty_rank,
            coalesce(frailty.frailty_evidence_score, 0) > 0 as has_frailty_evidence
        from aged
        left join frailty on frailty.pseudo_id = aged.pseudo_id
        where aged.age >= {{ param('frailty_min_age', 'integer') }}
    ),

    frailty_calibrated as (
        select
            pseudo_id,
            case
                when not has_frailty_evidence then 'fit'
                when frailty_rank >= 1 - {{ param('efi_share_severe') }} then 'severe'
                when frailty_rank >= 1 - {{ param('efi_share_severe') }} - {{ param('efi_share_moderate') }} then 'moderate'
                when frailty_rank >= 1 - {{ param('efi_share_severe') }} - {{ param('efi_share_moderate') }} - {{ param('efi_share_mild') }} then 'mild'
                else 'fit'
            end as calibrated_frailty_band
        from frailty_ranked
    )

    select
        aged.pseudo_id,
        aged.age,
        case
            when aged.age < 18 then '00-17'
            when aged.age < 40 then '18-39'
            when aged.age < 60 then '40-59'
            when aged.age < 70 then '60-69'
            when aged.age < 80 then '70-79'
            when aged.age < 90 then '80-89'
            else '90+'
        end as risk_age_band,
        coalesce(aged.sex, 'U') as sex,
        case
            when aged.age < {{ param('frailty_min_age', 'integer') }} then 'not_assessed'
            else coalesce(frailty_calibrated.calibrated_frailty_band, 'fit')
        end as risk_frailty_band,
        coalesce(cast(aged.imd_quintile as varchar), 'unknown') as imd_quintile_level,
        coalesce(ltc_counts.ltc_count, 0) as ltc_count,
        coalesce(prior_admissions.prior_emergency_admissions, 0) as prior_emergency_admissions,
        case when coalesce(palliative.is_palliative, false) then 1 else 0 end as palliative_care
    from aged
    left join ltc_counts on ltc_counts.pseudo_id = aged.pseudo_id
    left join prior_admissions on prior_admissions.pseudo_id = aged.pseudo_id
    left join frailty_calibrated on frailty_calibrated.pseudo_id = aged.pseudo_id
    left join palliative on palliative.pseudo_id = aged.pseudo_id
{%- endmacro %}

{% macro risk_prediction(features) -%}
    with coefficients as (
        select term, coalesce(level, '') as level, coefficient from {{ ref('risk_coefficients') }}
    ),

    scored as (
        select
            features.*,
            (select coefficient from coefficients where term = 'intercept')
            + coalesce(age.coefficient, 0)
            + coalesce(sex.coefficient, 0)
            + coalesce(frailty.coefficient, 0)
            + coalesce(imd.coefficient, 0)
            + (select coefficient from coefficients where term = 'ltc_count')
                * least(features.ltc_count, {{ param('risk_mm_cap', 'integer') }})
            + (select coefficient from coefficients where term = 'prior_emergency_admissions')
                * least(features.prior_emergency_admissions, {{ param('risk_prior_admissions_cap', 'integer') }})
            + coalesce((select coefficient from coefficients where term = 'palliative_care'), 0)
                * features.palliative_care
                as linear_predictor
        from {{ features }} as features
        left join coefficients as age on age.term = 'age_band' and age.level = features.risk_age_band
        left join coefficients as sex on sex.term = 'sex' and sex.level = features.sex
        left join coefficients as frailty on frailty.term = 'frailty_band' and frailty.level = features.risk_frailty_band
        left join coefficients as imd on imd.term = 'imd_quintile' and imd.level = features.imd_quintile_level
    )

    select
        *,
        exp(linear_predictor) as expected_emergency_admissions_12m,
        1 - exp(-exp(linear_predictor)) as risk_probability
    from scored
{%- endmacro %}


{#-
  The population registered and alive on `as_of_date`, scored with the features they had
  then, and the emergency admissions they had in the 12 months after it (capped at the
  reference date; those who die in the year stay in, with the admissions before death).
  int_risk_development (as of the reference date less 24 months: the window the
  coefficients are fitted on) and int_risk_backtest (less 12 months: the out-of-time
  evaluation window) are this macro at two dates.
-#}
{% macro risk_window(as_of_date) -%}
    with registrations as (
        select * from {{ ref('stg_gp__registrations') }}
        where pseudo_id is not null
    ),

    patients as (
        select * from {{ ref('stg_gp__patients') }}
        where pseudo_id is not null
    ),

    deaths as (
        select pseudo_id, min(date_of_death) as date_of_death
        from patients
        where date_of_death is not null
        group by pseudo_id
    ),

    registered_then as (
        select distinct registrations.pseudo_id
        from registrations
        left join deaths on deaths.pseudo_id = registrations.pseudo_id
        where registrations.registration_start_date <= {{ as_of_date }}
          and (registrations.registration_end_date is null
               or registrations.registration_end_date > {{ as_of_date }})
          and (deaths.date_of_death is null or deaths.date_of_death > {{ as_of_date }})
    ),

    imd as (
        select lsoa11cd, cast(ceil(imd_decile / 2) as integer) as imd_quintile
        from {{ ref('imd2019_lsoa') }}
    ),

    window_population as (
        select
            registered_then.pseudo_id,
            min(patients.birth_month) as birth_month,
            coalesce(min(case when patients.sex in ('M', 'F') then patients.sex end), 'U') as sex,
            min(imd.imd_quintile) as imd_quintile
        from registered_then
        inner join patients on patients.pseudo_id = registered_then.pseudo_id
        left join imd on imd.lsoa11cd = patients.lsoa_code
        where patients.birth_month <= {{ as_of_date }}
        group by registered_then.pseudo_id
    ),

    features as (
        {{ risk_features_as_of(as_of_date, "select * from window_population") }}
    ),

    predicted as (
        {{ risk_prediction('features') }}
    ),

    observed as (
        select pseudo_id, count(*) as observed_emergency_admissions_12m
        from {{ ref('int_hospital_activity_all') }}
        where activity_type = 'emergency_admission'
          and activity_date > {{ as_of_date }}
          and activity_date <= least({{ as_of_date }} + to_months({{ param('activity_lookback_months', 'integer') }}), {{ reference_date() }})
        group by pseudo_id
    )

    select
        predicted.*,
        {{ as_of_date }} as as_of_date,
        coalesce(observed.observed_emergency_admissions_12m, 0) as observed_emergency_admissions_12m
    from predicted
    left join observed on observed.pseudo_id = predicted.pseudo_id
{%- endmacro %}

{#-
  Area under the ROC curve of `score` for the binary `label` over `relation` (the
  Mann-Whitney statistic with average ranks for ties): the probability that a random
  person with the event scores above a random person without it.
-#}
{% macro auc(relation, score, label) -%}
    (select
        (sum(avg_rank) filter (where is_event) - count(*) filter (where is_event)
            * (count(*) filter (where is_event) + 1) / 2.0)
        / nullif(count(*) filter (where is_event) * count(*) filter (where not is_event), 0)
     from (
        select
            {{ label }} as is_event,
            rank() over (order by {{ score }}) + (count(*) over (partition by {{ score }}) - 1) / 2.0 as avg_rank
        from {{ relation }}
     ))
{%- endmacro %}
