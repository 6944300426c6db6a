-- Back-test measures per snapshot ('base', 'target'; int_projection_backtest_people) by
-- district, rate band (seed projection_age_bands), sex and IMD quintile: people
-- (population:all), and the people on each condition register then by the generic QOF
-- rule (a diagnosis code on or before the date not followed by a resolved code up to it,
-- minimum age of seed register_rules)
-- and with two or more long-term conditions. Condition-specific refinements of
-- int_condition_register (asthma drug, depression episode window, obesity BMI) are not
-- replayed: both snapshots use the same generic rule, so the back-test error measures
-- the projection, not a change of rule.
with banded as (
    select * from {{ ref('int_projection_backtest_people') }}
),

dates as (
    select distinct snapshot, as_of from banded
),

history as (
    select
        dates.snapshot,
        events.pseudo_id,
        events.condition,
        max(case when events.role = 'diagnosis' then events.event_date end) as latest_diagnosis_date,
        max(case when events.role = 'resolved' then events.event_date end) as latest_resolved_date
    from {{ ref('int_condition_events_all') }} as events
    cross join dates
    where events.event_date <= dates.as_of
    group by all
),

on_register as (
    select banded.snapshot, banded.pseudo_id, history.condition, rules.counts_as_ltc
    from history
    inner join banded on banded.snapshot = history.snapshot and banded.pseudo_id = history.pseudo_id
    inner join {{ ref('register_rules') }} as rules on rules.condition = history.condition
    where history.latest_diagnosis_date is not null
      and (history.latest_resolved_date is null or history.latest_diagnosis_date > history.latest_resolved_date)
      and banded.age >= rules.min_age
),

per_person as (
    select snapshot, pseudo_id, 'condition:' || condition as measure, 1.0::double as amount
    from on_register
    union all
    select snapshot, pseudo_id, 'multimorbidity:ltc_2plus', 1.0::double
    from on_register
    group by snapshot, pseudo_id
    having count(*) filter (where counts_as_ltc) >= 2
),

cells as (
    select snapshot, as_of, district_code, district_name, rate_band, sex, imd_quintile, count(*) as people
    from banded
    group by all
),

numerators as (
    select banded.snapshot, banded.district_code, banded.rate_band, banded.sex, banded.imd_quintile,
           per_person.measure, sum(per_person.amount) as numerator
    from per_person
    inner join banded on banded.snapshot = per_person.snapshot and banded.pseudo_id = per_person.pseudo_id
    group by all
)

select cells.*, 'population:all' as measure, cells.people as numerator
from cells
union all
select cells.*, numerators.measure, numerators.numerator
from numerators
inner join cells
    on cells.snapshot = numerators.snapshot
    and cells.district_code = numerators.district_code
    and cells.rate_band = numerators.rate_band
    and cells.sex = numerators.sex
    and cells.imd_quintile = numerators.imd_quintile
