-- Need per person at the reference date, by age band x sex x IMD 2019 quintile: the rate
-- the projection applies to each projected year (constant-rate scenario; the trend
-- scenarios scale it, see mart_projection_need). One row per measure and cell:
--   condition:<register>        on the register (mart_condition_flags);
--   multimorbidity:ltc_2plus    two or more long-term conditions (multimorbidity_count);
--   segment:<code>              Bridges to Health segment (mart_segmentation);
--   frailty:<band>              mild / moderate / severe frailty (int_frailty, 65+);
--   activity:emergency_admissions  emergency admissions in the last 12 months (a count:
--                               rate = admissions per person-year).
-- numerator / people = rate; the same population as int_projection_base_population
-- (sexes F and M).
with people as (
    select pseudo_id, age_band, sex, coalesce(imd_quintile, 0) as imd_quintile
    from {{ ref('dim_person') }}
    where sex in ('F', 'M')
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
    select age_band, sex, imd_quintile, count(*) as people
    from people
    group by all
),

numerators as (
    select people.age_band, people.sex, people.imd_quintile,
           per_person.measure_group, per_person.measure, sum(per_person.amount) as numerator
    from per_person
    inner join people on people.pseudo_id = per_person.pseudo_id
    group by all
)

select
    numerators.measure_group,
    numerators.measure,
    cells.age_band,
    cells.sex,
    cells.imd_quintile,
    numerators.numerator,
    cells.people,
    numerators.numerator / cells.people as rate
from numerators
inner join cells
    on cells.age_band = numerators.age_band
    and cells.sex = numerators.sex
    and cells.imd_quintile = numerators.imd_quintile
