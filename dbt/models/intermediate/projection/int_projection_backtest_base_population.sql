-- The back-test's starting population: the 'base' snapshot of int_projection_backtest_people
-- (registered and alive backtest_years before the reference date) by district, IMD
-- quintile, sex and single year of age, in the shape of int_projection_base_population
-- (PCN 'all': practice membership on that date is not replayed).
select
    district_code,
    district_name,
    'all' as pcn_code,
    'All PCNs' as pcn_name,
    imd_quintile,
    sex,
    least(age, 100) as age,
    count(*) as people,
    any_value(as_of) as reference_date
from {{ ref('int_projection_backtest_people') }}
where snapshot = 'base'
group by all
