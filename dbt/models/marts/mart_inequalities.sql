-- Inequalities: counts and rates by IMD quintile, Core20, ethnicity group, age band, sex,
-- PCN and segment, long form (one row per dimension, group and measure), as of the
-- reference date. rate = numerator / denominator (people in the group); activity measures
-- are per 1,000 people per year. Small numbers are not suppressed here: suppression
-- belongs to publication, not to the warehouse.
with people as (
    select
        person.pseudo_id,
        cast(person.imd_quintile as varchar) as imd_quintile,
        case when person.is_core20 then 'Core20' else 'Not Core20' end as core20,
        person.ethnicity_group,
        person.age_band,
        person.sex,
        coalesce(person.pcn_code, 'unknown') as pcn,
        segmentation.segment_code as segment,
        conditions.has_diabetes,
        conditions.has_hypertension,
        conditions.has_copd,
        conditions.has_smi,
        conditions.has_depression,
        conditions.multimorbidity_count >= 2 as has_multimorbidity,
        coalesce(risk.frailty_band in ('moderate', 'severe'), false) as is_moderately_or_severely_frail,
        risk.risk_tier in ('very high', 'high') as is_high_risk,
        coalesce(activity.emergency_admissions_12m, 0) as emergency_admissions_12m,
        coalesce(activity.ae_attendances_12m, 0) as ae_attendances_12m,
        coalesce(activity.outpatient_dnas_12m, 0) as outpatient_dnas_12m,
        person.has_national_data_opt_out
    from {{ ref('dim_person') }} as person
    inner join {{ ref('mart_segmentation') }} as segmentation on segmentation.pseudo_id = person.pseudo_id
    inner join {{ ref('mart_condition_flags') }} as conditions on conditions.pseudo_id = person.pseudo_id
    inner join {{ ref('mart_risk') }} as risk on risk.pseudo_id = person.pseudo_id
    left join {{ ref('int_activity_12m') }} as activity on activity.pseudo_id = person.pseudo_id
),

by_dimension as (
    {%- set dimensions = ['imd_quintile', 'core20', 'ethnicity_group', 'age_band', 'sex', 'pcn', 'segment'] %}
    {%- for dimension in dimensions %}
    select
        '{{ dimension }}' as dimension,
        coalesce(cast({{ dimension }} as varchar), 'unknown') as dimension_group,
        count(*) as people,
        count(*) filter (where has_diabetes) as diabetes,
        count(*) filter (where has_hypertension) as hypertension,
        count(*) filter (where has_copd) as copd,
        count(*) filter (where has_smi) as smi,
        count(*) filter (where has_depression) as depression,
        count(*) filter (where has_multimorbidity) as multimorbidity_2plus,
        count(*) filter (where is_moderately_or_severely_frail) as moderate_or_severe_frailty,
        count(*) filter (where is_high_risk) as high_or_very_high_risk,
        count(*) filter (where has_national_data_opt_out) as national_data_opt_out,
        cast(sum(emergency_admissions_12m) as bigint) as emergency_admissions_12m,
        cast(sum(ae_attendances_12m) as bigint) as ae_attendances_12m,
        cast(sum(outpatient_dnas_12m) as bigint) as outpatient_dnas_12m
    from people
    group by 1, 2
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

measures as (
    unpivot by_dimension
    on diabetes, hypertension, copd, smi, depression, multimorbidity_2plus,
       moderate_or_severe_frailty, high_or_very_high_risk, national_data_opt_out,
       emergency_admissions_12m, ae_attendances_12m, outpatient_dnas_12m
    into name measure value numerator
)

select
    dimension,
    dimension_group,
    measure,
    numerator,
    people as denominator,
    case
        when measure in ('emergency_admissions_12m', 'ae_attendances_12m', 'outpatient_dnas_12m')
            then round(1000.0 * numerator / people, 1)
        else round(numerator / people, 4)
    end as rate,
    case
        when measure in ('emergency_admissions_12m', 'ae_attendances_12m', 'outpatient_dnas_12m')
            then 'per 1,000 people per year'
        else 'proportion of people'
    end as rate_unit,
    {{ reference_date() }} as reference_date
from measures
