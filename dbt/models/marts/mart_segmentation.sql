-- Bridges to Health segmentation (Lynn J et al. "The Bridges to Health model", Milbank Q
-- 2007;85:185-208, as used in NHS population health management): every living registered
-- person in exactly one segment. Each segment's rule is one CTE of flags below; a person
-- meeting several goes to the one of highest priority (seed segments, priority 1 first,
-- with each segment's Bridges to Health counterpart in its rationale):
--   1 end of life / organ failure  (B2H 6 and 7) on a palliative care register: latest
--                                  palliative care code (PALCARE_COD) in the last 12 months
--                                  not followed by 'not clinically indicated' (PALCARENI_COD);
--                                  or heart failure / COPD with >= 2 emergency admissions in
--                                  12 months (limited reserve, serious exacerbations);
--   2 frailty and dementia         (B2H 8) dementia, lives in a long-stay care home (the
--                                  latest residence code, int_residence_latest - the
--                                  cohorts' definition; someone who moved out is not), or
--                                  moderate/severe frailty (65+);
--   3 serious but stable           (local, between B2H 4 and 6) cancer diagnosed in the last
--                                  5 years, or >= 4 LTCs;
--   4 disability                   (B2H 5) learning disability;
--   5 maternal and infant health   (B2H 2) pregnancy code in the last 9 months, or aged under 1;
--   6 chronic conditions           (B2H 4) any long-term condition on a register;
--   7 acutely ill                  (B2H 3) emergency admission or A&E attendance in the last
--                                  6 months;
--   8 healthy well                 (B2H 1) everyone else.
-- Why this order: the segment decides what a person's care is organised around. Needs that
-- are more intensive and longer-lasting win (end of life over frailty over complex
-- multimorbidity over disability). Pregnancy and infancy rank above chronic conditions
-- because, while they last, the maternity pathway (or health visiting) organises the care,
-- including that of a condition such as asthma or diabetes in pregnancy; an acute episode
-- only defines the segment of people with no ongoing need. Windows and thresholds come
-- from seed rule_parameters. Shares against published segmentations (Singapore ERHS 2016,
-- Baix Empordà CRGs 2007), figure by figure with sources: docs/segmentation.md.
with people as (
    select pseudo_id, age from {{ ref('dim_person') }}
),

conditions as (
    select * from {{ ref('mart_condition_flags') }}
),

frailty as (
    select pseudo_id, frailty_band from {{ ref('int_frailty') }}
),

activity as (
    select * from {{ ref('int_activity_12m') }}
),

markers as (
    select * from {{ ref('int_observations_latest') }}
),

care_home as (
    select pseudo_id from {{ ref('int_residence_latest') }}
    where lives_in_care_home
),

cancer_recent as (
    select pseudo_id
    from {{ ref('fct_conditions') }}
    where condition = 'cancer'
      and latest_diagnosis_date > ({{ reference_date() }} - to_years({{ param('cancer_active_years', 'integer') }}))
),

flags as (
    select
        people.pseudo_id,
        people.age,
        (markers.palliative_care_status = 'palliative'
            and markers.palliative_care_date > {{ months_before(reference_date(), 'palliative_care_lookback_months') }})
        or ((conditions.has_heart_failure or conditions.has_copd)
            and coalesce(activity.emergency_admissions_12m, 0) >= {{ param('organ_failure_min_emergency_admissions', 'integer') }})
            as is_end_of_life_organ_failure,
        conditions.has_dementia
        or care_home.pseudo_id is not null
        or coalesce(frailty.frailty_band in ('moderate', 'severe'), false)
            as is_frailty_dementia,
        cancer_recent.pseudo_id is not null
        or conditions.multimorbidity_count >= {{ param('serious_multimorbidity_min', 'integer') }}
            as is_serious_but_stable,
        conditions.has_learning_disability as is_disability,
        conditions.multimorbidity_count >= 1 as is_chronic_conditions,
        coalesce(markers.pregnancy_code_date > {{ months_before(reference_date(), 'pregnancy_lookback_months') }}, false)
        or people.age <= {{ param('infant_max_age', 'integer') }}
            as is_maternal_infant_health,
        coalesce(activity.emergency_contacts_acute_window, 0) > 0 as is_acutely_ill
    from people
    inner join conditions on conditions.pseudo_id = people.pseudo_id
    left join frailty on frailty.pseudo_id = people.pseudo_id
    left join activity on activity.pseudo_id = people.pseudo_id
    left join markers on markers.pseudo_id = people.pseudo_id
    left join care_home on care_home.pseudo_id = people.pseudo_id
    left join cancer_recent on cancer_recent.pseudo_id = people.pseudo_id
),

candidate_segments as (
    select pseudo_id, 'end_of_life_organ_failure' as segment_code from flags where coalesce(is_end_of_life_organ_failure, false)
    union all select pseudo_id, 'frailty_dementia' from flags where coalesce(is_frailty_dementia, false)
    union all select pseudo_id, 'serious_but_stable' from flags where coalesce(is_serious_but_stable, false)
    union all select pseudo_id, 'disability' from flags where coalesce(is_disability, false)
    union all select pseudo_id, 'chronic_conditions' from flags where coalesce(is_chronic_conditions, false)
    union all select pseudo_id, 'maternal_infant_health' from flags where coalesce(is_maternal_infant_health, false)
    union all select pseudo_id, 'acutely_ill' from flags where coalesce(is_acutely_ill, false)
    union all select pseudo_id, 'healthy_well' from flags
),

assigned as (
    select candidate_segments.pseudo_id, segments.segment_code, segments.segment_name, segments.priority
    from candidate_segments
    inner join {{ ref('segments') }} as segments on segments.segment_code = candidate_segments.segment_code
    qualify row_number() over (partition by candidate_segments.pseudo_id order by segments.priority) = 1
)

select
    assigned.pseudo_id,
    assigned.segment_code,
    assigned.segment_name,
    assigned.priority as segment_priority,
    coalesce(flags.is_end_of_life_organ_failure, false) as is_end_of_life_organ_failure,
    coalesce(flags.is_frailty_dementia, false) as is_frailty_dementia,
    coalesce(flags.is_serious_but_stable, false) as is_serious_but_stable,
    coalesce(flags.is_disability, false) as is_disability,
    coalesce(flags.is_chronic_conditions, false) as is_chronic_conditions,
    coalesce(flags.is_maternal_infant_health, false) as is_maternal_infant_health,
    coalesce(flags.is_acutely_ill, false) as is_acutely_ill,
    {{ reference_date() }} as reference_date
from assigned
inner join flags on flags.pseudo_id = assigned.pseudo_id
