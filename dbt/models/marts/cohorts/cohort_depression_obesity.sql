-- Pilot (neighbouring ICSs' direct-care outreach): support for people with both depression
-- and obesity (weight management and psychological support together), as of the reference date.
--
-- Rules (NICE CG189 / NG246 Overweight and obesity management, 2025: BMI 30 kg/m2 or more,
-- 27.5 or more for people of South Asian, Chinese, other Asian, Middle Eastern, Black
-- African or African-Caribbean family background; NICE NG222 Depression in adults;
-- parameters in seed project_parameters, project depression_obesity):
--   adult        aged 18 or over;
--   depression   on the depression register (QOF DEP: DEPR_COD not resolved by DEPRES_COD);
--   obesity      the latest BMI in the last 24 months at or above the threshold for the
--                person's ethnic group (recorded ethnicity group Asian or Asian British,
--                Black or Black British, Chinese or other ethnic groups: the lower one);
-- Exclusion: pregnant (a pregnancy code in the last 9 months: BMI does not apply).
-- clinical_priority: the latest BMI (highest first).
with population as (
    select * from {{ ref('int_cohort_population') }}
    where age >= {{ project_param('depression_obesity', 'min_age', 'integer') }}
),

latest_bmi as (
    select pseudo_id, event_date, value
    from {{ ref('int_observations_all') }}
    where measure = 'bmi'
      and event_date > {{ project_months_before('depression_obesity', reference_date(), 'bmi_lookback_months') }}
    qualify row_number() over (partition by pseudo_id order by event_date desc, value desc) = 1
),

depression as (
    select pseudo_id, latest_diagnosis_date from {{ ref('fct_conditions') }} where condition = 'depression'
),

pregnant as (
    select pseudo_id from {{ ref('int_observations_all') }}
    where measure = 'pregnancy'
      and event_date > {{ project_months_before('depression_obesity', reference_date(), 'pregnancy_lookback_months') }}
),

obese as (
    select
        population.pseudo_id, latest_bmi.event_date, latest_bmi.value,
        case when population.ethnicity_group in ('Asian or Asian British', 'Black or Black British', 'Chinese or Other Ethnic Groups')
             then {{ project_param('depression_obesity', 'bmi_threshold_lower') }}
             else {{ project_param('depression_obesity', 'bmi_threshold') }} end as threshold
    from population
    inner join latest_bmi on latest_bmi.pseudo_id = population.pseudo_id
),

eligible as (
    select obese.pseudo_id
    from obese
    inner join depression on depression.pseudo_id = obese.pseudo_id
    where obese.value >= obese.threshold
      and obese.pseudo_id not in (select pseudo_id from pregnant)
),

evidence as (
    select pseudo_id, 'adult' as rule_id,
        'Aged ' || {{ project_param('depression_obesity', 'min_age', 'integer') }} || ' or over' as rule_description,
        cast(null as date) as evidence_date, cast(age as varchar) as evidence_value
    from population where pseudo_id in (select pseudo_id from eligible)
    union all
    select pseudo_id, 'depression', 'On the depression register', latest_diagnosis_date, cast(null as varchar)
    from depression where pseudo_id in (select pseudo_id from eligible)
    union all
    select pseudo_id, 'obesity',
        'Latest BMI in the last ' || {{ project_param('depression_obesity', 'bmi_lookback_months', 'integer') }}
            || ' months at or above ' || printf('%g', threshold) || ' kg/m2',
        event_date, printf('%g', value) || ' kg/m2'
    from obese where pseudo_id in (select pseudo_id from eligible)
)

select
    evidence.pseudo_id,
    population.practice_code,
    case when max(obese.threshold) < {{ project_param('depression_obesity', 'bmi_threshold') }}
         then 'bmi_lower_threshold_ethnicity' else 'bmi_30_or_more' end as eligibility_group,
    cast(max(obese.value) as double) as clinical_priority,
    {{ cohort_reason_columns() }},
    {{ reference_date() }} as reference_date
from evidence
inner join population on population.pseudo_id = evidence.pseudo_id
left join obese on obese.pseudo_id = evidence.pseudo_id
group by evidence.pseudo_id, population.practice_code
