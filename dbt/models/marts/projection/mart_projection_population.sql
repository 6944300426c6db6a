-- Projected registered population by district, PCN, year, age band and sex, from the
-- reference date (year 0 = the registered population then) to the horizon (seed
-- projection_parameters.horizon_years): cohort-component projection driven by the
-- published rates in seeds projection_* (int_projection_population; method in
-- dagster_project/projection/cohort_component.py). projected = principal variant;
-- low / high = the low and high population variants (net migration -/+ the spread,
-- ONS low / high life expectancy mortality improvement). Counts are expected values
-- (fractional), not people who can be identified.
select
    district_code,
    district_name,
    pcn_code,
    pcn_name,
    year,
    years_ahead,
    age_band,
    sex,
    sum(people) as projected,
    sum(people_low) as low,
    sum(people_high) as high,
    any_value(base_date) as reference_date
from {{ ref('int_projection_population') }}
group by district_code, district_name, pcn_code, pcn_name, year, years_ahead, age_band, sex
