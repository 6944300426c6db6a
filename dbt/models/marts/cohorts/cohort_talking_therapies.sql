-- Protect NoW: NHS Talking Therapies, as of the reference date.
--
-- Rules (NHS Talking Therapies manual, NHS England 2024; Protect NoW project rule;
-- parameters in seed project_parameters, project talking_therapies):
--   adult                       aged 18 or over;
--   depression_or_anxiety       on the depression register (QOF DEP004 rule) or the anxiety
--                               register (stand-in ANXIETY_OS) - int_condition_register via
--                               fct_conditions; one evidence row per register;
--   long_term_condition         (evidence only, raises priority) also on a long-term
--                               condition register other than depression / anxiety;
-- Exclusions:
--   in contact with Talking Therapies  a referral, first treatment or discharge in the last
--                               12 months, or a referral still open on the reference date
--                               (NHS Talking Therapies dataset);
--   secondary mental health care  on the severe mental illness register (SMI: managed by
--                               secondary mental health services; no MHSDS extract reaches
--                               the platform, so the SMI register is the proxy).
-- clinical_priority: 2 for a long-term condition plus depression/anxiety (the integrated
-- LTC pathway), +1 when depression or anxiety was coded in the last 24 months.
with population as (
    select * from {{ ref('int_cohort_population') }}
    where age >= {{ project_param('talking_therapies', 'min_age', 'integer') }}
),

conditions as (
    select * from {{ ref('fct_conditions') }}
),

rule_adult as (
    select
        pseudo_id,
        'adult' as rule_id,
        'Aged ' || {{ project_param('talking_therapies', 'min_age', 'integer') }} || ' or over' as rule_description,
        cast(null as date) as evidence_date,
        cast(age as varchar) as evidence_value
    from population
),

rule_depression_or_anxiety as (
    select
        conditions.pseudo_id,
        'register:' || conditions.condition as rule_id,
        'On the ' || lower(conditions.condition_label) || ' register' as rule_description,
        conditions.latest_diagnosis_date as evidence_date,
        conditions.condition as evidence_value
    from conditions
    inner join population on population.pseudo_id = conditions.pseudo_id
    where conditions.condition in ('depression', 'anxiety')
),

rule_long_term_condition as (
    select
        conditions.pseudo_id,
        'long_term_condition' as rule_id,
        'Also has a long-term condition (' || string_agg(lower(conditions.condition_label), ', ' order by conditions.condition) || ')' as rule_description,
        max(conditions.first_diagnosis_date) as evidence_date,
        cast(count(*) as varchar) as evidence_value
    from conditions
    inner join population on population.pseudo_id = conditions.pseudo_id
    where conditions.counts_as_ltc and conditions.condition not in ('depression', 'anxiety')
    group by conditions.pseudo_id
),

in_contact_with_talking_therapies as (
    select pseudo_id
    from {{ ref('stg_talking_therapies__referrals') }}
    where pseudo_id is not null
      and referral_date <= {{ reference_date() }}
      and (
          referral_date > {{ project_months_before('talking_therapies', reference_date(), 'contact_lookback_months') }}
          or first_treatment_date > {{ project_months_before('talking_therapies', reference_date(), 'contact_lookback_months') }}
          or discharge_date > {{ project_months_before('talking_therapies', reference_date(), 'contact_lookback_months') }}
          or discharge_date is null
      )
),

secondary_mental_health_care as (
    select pseudo_id from conditions where condition = 'smi'
),

eligible as (
    select pseudo_id from rule_depression_or_anxiety
    where pseudo_id not in (select pseudo_id from in_contact_with_talking_therapies)
      and pseudo_id not in (select pseudo_id from secondary_mental_health_care)
),

evidence as (
    select * from rule_adult
    union all select * from rule_depression_or_anxiety
    union all select * from rule_long_term_condition
)

select
    evidence.pseudo_id,
    population.practice_code,
    case when bool_or(evidence.rule_id = 'long_term_condition') then 'ltc_with_depression_or_anxiety'
         else 'depression_or_anxiety' end as eligibility_group,
    cast(2 * bool_or(evidence.rule_id = 'long_term_condition')::int
         + bool_or(evidence.rule_id like 'register:%'
                   and evidence.evidence_date > {{ project_months_before('talking_therapies', reference_date(), 'recent_episode_months') }})::int
         as double) as clinical_priority,
    {{ cohort_reason_columns() }},
    {{ reference_date() }} as reference_date
from evidence
inner join population on population.pseudo_id = evidence.pseudo_id
where evidence.pseudo_id in (select distinct pseudo_id from eligible)
group by evidence.pseudo_id, population.practice_code
