{#-
  Emergency-admission risk: the features of a population as of a date, and the
  prediction from them. The same two macros score today's population (mart_risk, as of
  the reference date) and last year's (int_risk_backtest, as of the reference date less
  12 months, whose admissions since are known), so the calibration table checks exactly
  the formula in use.

  Features as of date D (`population` gives pseudo_id, birth_month, sex, imd_quintile):
    risk_age_band                 age on D: 00-17, 18-39, 40-59, 60-69, 70-79, 80-89, 90+
    sex                           F / M / U
    risk_frailty_band             65+ on D: fit / mild / moderate / severe (macro
                                  frailty_as_of); under 65: not_assessed
    imd_quintile_level            1..5, or 'unknown'
    ltc_count                     long-term conditions (counts_as_ltc) with a diagnosis code
                                  on or before D not undone by a later resolved code
    prior_emergency_admissions    emergency admissions in the 12 months up to D

  Prediction (a Poisson rate model; coefficients in seed risk_coefficients):
    log(expected emergency admissions in the next 12 months) =
        intercept + b[age band] + b[sex] + b[frailty band] + b[IMD quintile]
        + b_ltc * min(ltc_count, risk_mm_cap)
        + b_prior * min(prior_emergency_admissions, risk_prior_admissions_cap)
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

    frailty as (
        {{ frailty_as_of(as_of_date) }}
    ),

    aged as (
        select population.*, {{ age_at('population.birth_month', as_of_date) }} as age
        from population
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
            else coalesce(frailty.frailty_band, 'fit')
        end as risk_frailty_band,
        coalesce(cast(aged.imd_quintile as varchar), 'unknown') as imd_quintile_level,
        coalesce(ltc_counts.ltc_count, 0) as ltc_count,
        coalesce(prior_admissions.prior_emergency_admissions, 0) as prior_emergency_admissions
    from aged
    left join ltc_counts on ltc_counts.pseudo_id = aged.pseudo_id
    left join prior_admissions on prior_admissions.pseudo_id = aged.pseudo_id
    left join frailty on frailty.pseudo_id = aged.pseudo_id
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
