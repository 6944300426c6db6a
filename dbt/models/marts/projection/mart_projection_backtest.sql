-- The projection's back-test, error per measure: the population registered
-- backtest_years before the reference date, projected to the reference date by the same
-- model and published rates (int_projection_backtest_population), its need measures by
-- the rates of that earlier date (rate band x sex x IMD quintile), compared with what the
-- extracts show on the reference date (int_projection_backtest_measures, same rules at
-- both dates). One row per district (and 'ICS' for the whole) and measure:
--   projected, actual, error = projected - actual, pct_error = error / actual;
--   base_count and naive_pct_error: "nothing changes" (the earlier count carried
--   forward), the benchmark a projection has to beat.
with measures as (
    select * from {{ ref('int_projection_backtest_measures') }}
),

base_cells as (
    select rate_band, sex, imd_quintile, sum(numerator) as people
    from measures
    where snapshot = 'base' and measure = 'population:all'
    group by all
),

base_rates as (
    select measures.measure, measures.rate_band, measures.sex, measures.imd_quintile,
           sum(measures.numerator) / any_value(base_cells.people) as rate
    from measures
    inner join base_cells
        on base_cells.rate_band = measures.rate_band
        and base_cells.sex = measures.sex
        and base_cells.imd_quintile = measures.imd_quintile
    where measures.snapshot = 'base' and measures.measure <> 'population:all'
    group by all
),

projected_population as (
    select * from {{ ref('int_projection_backtest_population') }}
    where years_ahead = (select max(years_ahead) from {{ ref('int_projection_backtest_population') }})
),

age_groups as (
    select 'population:all' as measure, rate_band from {{ ref('projection_age_bands') }}
    union all
    select 'population:65plus', rate_band from {{ ref('projection_age_bands') }} where min_age >= 65
    union all
    select 'population:85plus', rate_band from {{ ref('projection_age_bands') }} where min_age >= 85
),

projected as (
    select projected_population.district_name, age_groups.measure, sum(projected_population.people) as value
    from projected_population
    inner join age_groups on age_groups.rate_band = projected_population.rate_band
    group by all
    union all
    select projected_population.district_name, base_rates.measure, sum(projected_population.people * base_rates.rate)
    from projected_population
    inner join base_rates
        on base_rates.rate_band = projected_population.rate_band
        and base_rates.sex = projected_population.sex
        and base_rates.imd_quintile = projected_population.imd_quintile
    group by all
),

observed as (
    select measures.snapshot, measures.district_name, age_groups.measure, sum(measures.numerator) as value
    from measures
    inner join age_groups on age_groups.rate_band = measures.rate_band
    where measures.measure = 'population:all'
    group by all
    union all
    select snapshot, district_name, measure, sum(numerator)
    from measures
    where measure <> 'population:all'
    group by all
),

by_district as (
    select
        coalesce(projected.district_name, target.district_name) as district_name,
        coalesce(projected.measure, target.measure) as measure,
        coalesce(projected.value, 0) as projected,
        coalesce(target.value, 0) as actual,
        coalesce(base.value, 0) as base_count
    from projected
    full outer join (select * from observed where snapshot = 'target') as target
        on target.district_name = projected.district_name and target.measure = projected.measure
    left join (select * from observed where snapshot = 'base') as base
        on base.district_name = coalesce(projected.district_name, target.district_name)
        and base.measure = coalesce(projected.measure, target.measure)
),

with_total as (
    select * from by_district
    union all
    select 'ICS', measure, sum(projected), sum(actual), sum(base_count)
    from by_district
    group by measure
)

select
    district_name,
    measure,
    (select min(as_of) from measures) as base_date,
    (select max(as_of) from measures) as target_date,
    round(projected, 2) as projected,
    actual,
    base_count,
    round(projected - actual, 2) as error,
    case when actual > 0 then round((projected - actual) / actual, 4) end as pct_error,
    case when actual > 0 then round((base_count - actual) / actual, 4) end as naive_pct_error
from with_total
