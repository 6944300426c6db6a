-- The risk model's back-test: the population registered and alive 12 months before the
-- reference date, scored with the features they had then (the same macros as mart_risk),
-- against the emergency admissions they actually had in the 12 months since (up to the
-- reference date, including those who have died since). Feeds mart_risk_calibration and
-- the coefficient fit (dagster_project/warehouse/calibration.py).
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

registered_a_year_ago as (
    select distinct registrations.pseudo_id
    from registrations
    left join deaths on deaths.pseudo_id = registrations.pseudo_id
    where registrations.registration_start_date <= {{ months_before(reference_date(), 'activity_lookback_months') }}
      and (registrations.registration_end_date is null
           or registrations.registration_end_date > {{ months_before(reference_date(), 'activity_lookback_months') }})
      and (deaths.date_of_death is null
           or deaths.date_of_death > {{ months_before(reference_date(), 'activity_lookback_months') }})
),

imd as (
    select lsoa11cd, cast(ceil(imd_decile / 2) as integer) as imd_quintile
    from {{ ref('imd2019_lsoa') }}
),

backtest_population as (
    select
        registered_a_year_ago.pseudo_id,
        min(patients.birth_month) as birth_month,
        coalesce(min(case when patients.sex in ('M', 'F') then patients.sex end), 'U') as sex,
        min(imd.imd_quintile) as imd_quintile
    from registered_a_year_ago
    inner join patients on patients.pseudo_id = registered_a_year_ago.pseudo_id
    left join imd on imd.lsoa11cd = patients.lsoa_code
    group by registered_a_year_ago.pseudo_id
),

features as (
    {{ risk_features_as_of(months_before(reference_date(), 'activity_lookback_months'),
        "select * from backtest_population") }}
),

predicted as (
    {{ risk_prediction('features') }}
),

observed as (
    select pseudo_id, count(*) as observed_emergency_admissions_12m
    from {{ ref('int_hospital_activity_all') }}
    where activity_type = 'emergency_admission'
      and activity_date > {{ months_before(reference_date(), 'activity_lookback_months') }}
      and activity_date <= {{ reference_date() }}
    group by pseudo_id
)

select
    predicted.*,
    coalesce(observed.observed_emergency_admissions_12m, 0) as observed_emergency_admissions_12m
from predicted
left join observed on observed.pseudo_id = predicted.pseudo_id
