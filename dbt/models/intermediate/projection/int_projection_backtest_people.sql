-- The back-test's two snapshots of the same extract history, built by one rule so that
-- they differ only by date: 'base' = backtest_years (seed projection_parameters) before
-- the reference date, 'target' = the reference date. One row per snapshot and person
-- registered and alive on that date (registration open, no death on or before it: the
-- rule of int_registration_current and int_risk_backtest), with their age then, sex,
-- and the district and IMD quintile of their LSOA (the newest LSOA held: people who moved
-- within the ICS are placed where they live now).
with dates as (
    select 'base' as snapshot,
           cast({{ reference_date() }} - to_years(
               (select cast(value as integer) from {{ ref('projection_parameters') }}
                where parameter = 'backtest_years')) as date) as as_of
    union all
    select 'target', {{ reference_date() }}
),

registrations as (
    select * from {{ ref('stg_gp__registrations') }}
    where pseudo_id is not null
    -- the indirect-care opt-out policy of dim_person, which the projection starts from:
    -- projected and observed populations must be the same people
    {% if national_data_opt_out_policy() == 'exclude' %}
      and pseudo_id not in (select pseudo_id from {{ ref('stg_identity__opt_outs') }})
    {% endif %}
),

patients as (
    select * from {{ ref('stg_gp__patients') }}
    where pseudo_id is not null
),

attributes as (
    select
        pseudo_id,
        min(birth_month) as birth_month,
        min(case when sex in ('M', 'F') then sex end) as sex,
        min(lsoa_code) as lsoa_code,
        min(date_of_death) as date_of_death
    from patients
    group by pseudo_id
),

registered as (
    select distinct dates.snapshot, dates.as_of, registrations.pseudo_id
    from registrations
    cross join dates
    where registrations.registration_start_date <= dates.as_of
      and (registrations.registration_end_date is null or registrations.registration_end_date > dates.as_of)
),

people as (
    select
        registered.snapshot,
        registered.as_of,
        registered.pseudo_id,
        attributes.sex,
        {{ age_at('attributes.birth_month', 'registered.as_of') }} as age,
        coalesce(districts.district_code, 'unknown') as district_code,
        coalesce(districts.district_name, 'Unknown district') as district_name,
        coalesce(districts.imd_quintile, 0) as imd_quintile
    from registered
    inner join attributes on attributes.pseudo_id = registered.pseudo_id
    left join {{ ref('int_projection_districts') }} as districts on districts.lsoa_code = attributes.lsoa_code
    where attributes.sex in ('F', 'M')
      and attributes.birth_month <= registered.as_of
      and (attributes.date_of_death is null or attributes.date_of_death > registered.as_of)
),

banded as (
    select people.*, bands.rate_band, bands.age_band
    from people
    inner join {{ ref('projection_age_bands') }} as bands on people.age between bands.min_age and bands.max_age
)

select * from banded
