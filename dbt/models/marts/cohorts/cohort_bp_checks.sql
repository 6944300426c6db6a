-- Pilot (neighbouring ICSs' direct-care outreach): blood-pressure checks, as of the reference date.
--
-- Rules (NICE NG136 Hypertension in adults, 2019 updated 2023: clinic BP 140/90 mmHg or
-- higher -> offer ambulatory/home monitoring to confirm a diagnosis; QOF 2024/25 HYP008 /
-- HYP009 treatment targets: 140/90 or below under 80, 150/90 or below at 80 and over;
-- parameters in seed project_parameters, project bp_checks):
--   adult                        aged 18 or over;
--   raised_reading_no_diagnosis  not on the hypertension register, and the latest systolic
--                                (SYSBP_COD) or diastolic (DIASBP_QOF) reading in the last
--                                12 months is at or above 140 / 90 mmHg - undiagnosed-looking;
--   uncontrolled_hypertension    on the hypertension register (QOF HYP001: HYP_COD not
--                                resolved), and the latest systolic or diastolic reading in
--                                the last 12 months is above the age-specific target.
-- clinical_priority: the latest systolic reading (highest first).
with population as (
    select * from {{ ref('int_cohort_population') }}
    where age >= {{ project_param('bp_checks', 'min_age', 'integer') }}
),

latest as (
    select pseudo_id, measure, event_date, value
    from {{ ref('int_observations_all') }}
    where measure in ('systolic_bp', 'diastolic_bp')
      and event_date > {{ project_months_before('bp_checks', reference_date(), 'lookback_months') }}
    qualify row_number() over (partition by pseudo_id, measure order by event_date desc, value desc) = 1
),

readings as (
    select
        population.pseudo_id,
        population.age,
        max(latest.value) filter (where latest.measure = 'systolic_bp') as systolic,
        max(latest.value) filter (where latest.measure = 'diastolic_bp') as diastolic,
        max(latest.event_date) as reading_date
    from population
    inner join latest on latest.pseudo_id = population.pseudo_id
    group by population.pseudo_id, population.age
),

hypertension as (
    select pseudo_id, latest_diagnosis_date from {{ ref('fct_conditions') }} where condition = 'hypertension'
),

rule_adult as (
    select pseudo_id, 'adult' as rule_id,
        'Aged ' || {{ project_param('bp_checks', 'min_age', 'integer') }} || ' or over' as rule_description,
        cast(null as date) as evidence_date, cast(age as varchar) as evidence_value
    from population
),

rule_raised_no_diagnosis as (
    select pseudo_id, 'raised_reading_no_diagnosis' as rule_id,
        'Latest blood pressure in the last ' || {{ project_param('bp_checks', 'lookback_months', 'integer') }}
            || ' months at or above ' || {{ project_param('bp_checks', 'raised_systolic', 'integer') }} || '/'
            || {{ project_param('bp_checks', 'raised_diastolic', 'integer') }} || ' mmHg and no hypertension diagnosis' as rule_description,
        reading_date as evidence_date,
        coalesce(printf('%g', systolic), '?') || '/' || coalesce(printf('%g', diastolic), '?') || ' mmHg' as evidence_value
    from readings
    where pseudo_id not in (select pseudo_id from hypertension)
      and (systolic >= {{ project_param('bp_checks', 'raised_systolic') }}
           or diastolic >= {{ project_param('bp_checks', 'raised_diastolic') }})
),

rule_uncontrolled as (
    select readings.pseudo_id, 'uncontrolled_hypertension' as rule_id,
        'Hypertension with the latest blood pressure above target ('
            || case when readings.age >= {{ project_param('bp_checks', 'older_age', 'integer') }}
                    then {{ project_param('bp_checks', 'target_systolic_older', 'integer') }}
                    else {{ project_param('bp_checks', 'target_systolic', 'integer') }} end
            || '/' || {{ project_param('bp_checks', 'target_diastolic', 'integer') }} || ' mmHg)' as rule_description,
        readings.reading_date as evidence_date,
        coalesce(printf('%g', systolic), '?') || '/' || coalesce(printf('%g', diastolic), '?') || ' mmHg' as evidence_value
    from readings
    inner join hypertension on hypertension.pseudo_id = readings.pseudo_id
    where readings.systolic > case when readings.age >= {{ project_param('bp_checks', 'older_age', 'integer') }}
                                   then {{ project_param('bp_checks', 'target_systolic_older') }}
                                   else {{ project_param('bp_checks', 'target_systolic') }} end
       or readings.diastolic > {{ project_param('bp_checks', 'target_diastolic') }}
),

rule_hypertension as (
    select pseudo_id, 'hypertension_register' as rule_id, 'On the hypertension register' as rule_description,
        latest_diagnosis_date as evidence_date, cast(null as varchar) as evidence_value
    from hypertension
    where pseudo_id in (select pseudo_id from rule_uncontrolled)
),

qualifying as (
    select * from rule_raised_no_diagnosis
    union all select * from rule_uncontrolled
),

evidence as (
    select * from rule_adult where pseudo_id in (select pseudo_id from qualifying)
    union all select * from qualifying
    union all select * from rule_hypertension
)

select
    evidence.pseudo_id,
    population.practice_code,
    case when bool_or(evidence.rule_id = 'uncontrolled_hypertension') then 'uncontrolled_hypertension'
         else 'raised_reading_no_diagnosis' end as eligibility_group,
    cast(coalesce(max(readings.systolic), 0) as double) as clinical_priority,
    {{ cohort_reason_columns() }},
    {{ reference_date() }} as reference_date
from evidence
inner join population on population.pseudo_id = evidence.pseudo_id
left join readings on readings.pseudo_id = evidence.pseudo_id
group by evidence.pseudo_id, population.practice_code
