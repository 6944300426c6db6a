-- Need per person at the reference date, by rate band (seed projection_age_bands: the
-- warehouse's age bands, five-year from 65) x sex x IMD 2019 quintile: the rate
-- the projection applies to each projected year (constant-rate scenario; the trend
-- scenarios scale it, see mart_projection_need). One row per measure and cell:
--   condition:<register>        on the register (mart_condition_flags);
--   multimorbidity:ltc_2plus    two or more long-term conditions (multimorbidity_count);
--   segment:<code>              Bridges to Health segment (mart_segmentation);
--   frailty:<band>              mild / moderate / severe frailty (int_frailty, 65+);
--   activity:emergency_admissions  emergency admissions in the last 12 months (a count:
--                               rate = admissions per person-year).
-- numerator / people = rate; the same population as int_projection_base_population
-- (sexes F and M). A cell nobody is in today takes the rate of its band and sex over all
-- quintiles (is_pooled_rate), so people the projection brings into it are not counted
-- as having no need.
with people as (
    select person.pseudo_id, bands.rate_band, person.sex, coalesce(person.imd_quintile, 0) as imd_quintile
    from {{ ref('dim_person') }} as person
    inner join {{ ref('projection_age_bands') }} as bands on person.age between bands.min_age and bands.max_age
    where person.sex in ('F', 'M')
),

conditions as (
    select * from {{ ref('mart_condition_flags') }}
),

per_person as (
    {%- set conditions = ['hypertension', 'diabetes', 'ndh', 'asthma', 'copd', 'chd', 'ckd',
                          'heart_failure', 'atrial_fibrillation', 'dementia', 'depression',
                          'anxiety', 'smi', 'learning_disability', 'obesity', 'cancer', 'stroke'] %}
    {%- for condition in conditions %}
    select pseudo_id, 'condition' as measure_group, 'condition:{{ condition }}' as measure, 1.0::double as amount
    from conditions where has_{{ condition }}
    union all
    {%- endfor %}
    select pseudo_id, 'multimorbidity', 'multimorbidity:ltc_2plus', 1.0::double
    from conditions where multimorbidity_count >= 2
    union all
    select pseudo_id, 'segment', 'segment:' || segment_code, 1.0::double
    from {{ ref('mart_segmentation') }}
    union all
    select pseudo_id, 'frailty', 'frailty:' || frailty_band, 1.0::double
    from {{ ref('int_frailty') }} where frailty_band in ('mild', 'moderate', 'severe')
    union all
    select pseudo_id, 'activity', 'activity:emergency_admissions', cast(emergency_admissions_12m as double)
    from {{ ref('int_activity_12m') }} where emergency_admissions_12m > 0
),

cells as (
    select rate_band, sex, imd_quintile, count(*) as people
    from people
    group by all
),

numerators as (
    select people.rate_band, people.sex, people.imd_quintile,
           per_person.measure_group, per_person.measure, sum(per_person.amount) as numerator
    from per_person
    inner join people on people.pseudo_id = per_person.pseudo_id
    group by all
),

-- every cell the projection can reach (a birth cohort or migrants can fill a cell empty
-- today): rate band x sex x quintile (0 = LSOA unknown) x measure
all_cells as (
    select bands.rate_band, sexes.sex, quintiles.imd_quintile, measures.measure_group, measures.measure
    from {{ ref('projection_age_bands') }} as bands
    cross join (select unnest(['F', 'M']) as sex) as sexes
    cross join (select unnest(range(0, 6)) as imd_quintile) as quintiles
    cross join (select distinct measure_group, measure from numerators) as measures
),

-- fallback for a cell nobody is in today: the rate of its age band and sex over all quintiles
pooled as (
    select all_cells.rate_band, all_cells.sex, all_cells.measure,
           sum(coalesce(numerators.numerator, 0)) / nullif(sum(cells.people), 0) as rate
    from all_cells
    left join cells using (rate_band, sex, imd_quintile)
    left join numerators using (rate_band, sex, imd_quintile, measure)
    group by all
)

select
    all_cells.measure_group,
    all_cells.measure,
    all_cells.rate_band,
    all_cells.sex,
    all_cells.imd_quintile,
    coalesce(numerators.numerator, 0) as numerator,
    coalesce(cells.people, 0) as people,
    case when cells.people > 0 then coalesce(numerators.numerator, 0) / cells.people
         else coalesce(pooled.rate, 0) end as rate,
    cells.people is null as is_pooled_rate
from all_cells
left join cells using (rate_band, sex, imd_quintile)
left join numerators using (rate_band, sex, imd_quintile, measure)
left join pooled using (rate_band, sex, measure)
