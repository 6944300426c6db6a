-- Projected need by district, PCN, year, age band, sex and measure: the rate of each
-- measure per person at the reference date, specific to age band x sex x IMD quintile
-- (int_projection_need_rates: condition registers, two or more LTCs, Bridges to Health
-- segments, frailty bands, emergency admissions), applied to the projected population of
-- the same cell (int_projection_population) in every year.
--   projected = principal population x constant rates;
--   low  = low population variant x rates improving by improvement_per_year (compounded);
--   high = high population variant x rates worsening by worsening_per_year;
-- rates per year from seed projection_need_trends (a documented assumption, stated as
-- such there). For the healthy-well segment "improvement" means more people, so its
-- scenarios are the other way round. Prevalences are capped at 1 person per person;
-- emergency admissions (a count per person) are not.
with population as (
    select * from {{ ref('int_projection_population') }}
),

rates as (
    select * from {{ ref('int_projection_need_rates') }}
),

trends as (
    select * from {{ ref('projection_need_trends') }}
),

cells as (
    select
        population.district_code,
        population.district_name,
        population.pcn_code,
        population.pcn_name,
        population.year,
        population.years_ahead,
        population.age_band,
        population.sex,
        rates.measure_group,
        rates.measure,
        population.base_date,
        population.people * rates.rate as projected,
        case when rates.measure = 'segment:healthy_well'
             then population.people_low * rates.rate * power(1 - trends.worsening_per_year, population.years_ahead)
             else population.people_low * rates.rate * power(1 - trends.improvement_per_year, population.years_ahead)
        end as low_unbounded,
        case when rates.measure = 'segment:healthy_well'
             then population.people_high * rates.rate * power(1 + trends.improvement_per_year, population.years_ahead)
             else population.people_high * rates.rate * power(1 + trends.worsening_per_year, population.years_ahead)
        end as high_unbounded,
        population.people_low,
        population.people_high
    from population
    inner join rates
        on rates.rate_band = population.rate_band
        and rates.sex = population.sex
        and rates.imd_quintile = population.imd_quintile
    inner join trends on trends.measure_group = rates.measure_group
)

select
    district_code,
    district_name,
    pcn_code,
    pcn_name,
    year,
    years_ahead,
    age_band,
    sex,
    measure_group,
    measure,
    sum(projected) as projected,
    sum(case when measure_group = 'activity' then low_unbounded else least(low_unbounded, people_low) end) as low,
    sum(case when measure_group = 'activity' then high_unbounded else least(high_unbounded, people_high) end) as high,
    any_value(base_date) as reference_date
from cells
group by district_code, district_name, pcn_code, pcn_name, year, years_ahead, age_band, sex, measure_group, measure
