{{ config(schema='intermediate') }}
-- Every NHS Talking Therapies outreach rule and exclusion met, per person, as of the
-- reference date (rule_kind inclusion / exclusion / evidence). cohort_talking_therapies
-- composes them.
--
-- Sources (checked 2026-11): NHS Talking Therapies for anxiety and depression manual (NHS
-- England, 2024; adults 18+ with depression or anxiety disorders, self-referral); QOF
-- 2024/25 DEP004 register logic for depression; the rest is Protect NoW project policy
-- (CLINICAL_RULES.md, "as this project frames the outreach").
-- Inclusions (adult and a condition):
--   adult                 18 or over to the day;
--   condition:depression  on the depression register (latest depression episode not
--                         followed by a resolved code, QOF DEP004) - fct_conditions;
--   condition:anxiety     an anxiety disorder code (ANXIETY_OS, the open stand-in for
--                         ANX_COD) in the last 24 months: no open anxiety-resolved list
--                         exists, so recency stands in for resolution (project_rules
--                         anxiety_resolved is off with that reason).
-- Exclusions:
--   in_contact            a Talking Therapies referral, first treatment or discharge in the
--                         last 12 months, or a referral still open that had activity
--                         (referral or first treatment) in the last 6 months - an open
--                         referral with no activity for longer is treated as stalled and
--                         no longer excludes (parameter stale_open_referral_months);
--   secondary_mental_health_care  on the severe mental illness register (no MHSDS extract
--                         reaches the platform; the SMI register is the proxy).
-- evidence: long_term_condition (also on another long-term condition register: raises
-- priority, the integrated LTC pathway).
with population as (
    select * from {{ ref('int_cohort_population') }}
    where age >= {{ project_param('talking_therapies', 'min_age', 'integer') }}
),

conditions as (
    select * from {{ ref('fct_conditions') }}
),

referrals as (
    select * from {{ ref('stg_talking_therapies__referrals') }}
    where pseudo_id is not null and referral_date <= {{ reference_date() }}
),

rule_adult as (
    select pseudo_id, 'adult' as rule_id, 'inclusion' as rule_kind,
           'Aged ' || {{ project_param('talking_therapies', 'min_age', 'integer') }} || ' or over' as rule_description,
           cast(null as date) as evidence_date, cast(age as varchar) as evidence_value
    from population
),

rule_depression as (
    select conditions.pseudo_id, 'condition:depression' as rule_id, 'inclusion' as rule_kind,
           'On the depression register (QOF DEP004)' as rule_description,
           conditions.latest_diagnosis_date as evidence_date, 'depression' as evidence_value
    from conditions
    inner join population on population.pseudo_id = conditions.pseudo_id
    where conditions.condition = 'depression'
),

rule_anxiety as (
    select anxiety.pseudo_id, 'condition:anxiety' as rule_id, 'inclusion' as rule_kind,
           'Anxiety disorder coded in the last ' || {{ project_param('talking_therapies', 'anxiety_current_months', 'integer') }} || ' months' as rule_description,
           max(anxiety.event_date) as evidence_date, 'anxiety' as evidence_value
    from ({{ get_observations(['ANXIETY_OS']) }}) as anxiety
    inner join population on population.pseudo_id = anxiety.pseudo_id
    where anxiety.event_date > {{ project_months_before('talking_therapies', reference_date(), 'anxiety_current_months') }}
    group by anxiety.pseudo_id
),

evidence_long_term_condition as (
    select
        conditions.pseudo_id,
        'long_term_condition' as rule_id,
        'evidence' as rule_kind,
        'Also has a long-term condition (' || string_agg(lower(conditions.condition_label), ', ' order by conditions.condition) || ')' as rule_description,
        max(conditions.first_diagnosis_date) as evidence_date,
        cast(count(*) as varchar) as evidence_value
    from conditions
    inner join population on population.pseudo_id = conditions.pseudo_id
    where conditions.counts_as_ltc and conditions.condition not in ('depression', 'anxiety')
    group by conditions.pseudo_id
),

excluded_in_contact as (
    select referrals.pseudo_id, 'in_contact' as rule_id, 'exclusion' as rule_kind,
           'In contact with NHS Talking Therapies (activity in the last '
               || {{ project_param('talking_therapies', 'contact_lookback_months', 'integer') }}
               || ' months, or an open referral active in the last '
               || {{ project_param('talking_therapies', 'stale_open_referral_months', 'integer') }} || ' months)' as rule_description,
           max(greatest(referrals.referral_date, referrals.first_treatment_date, referrals.discharge_date)) as evidence_date,
           cast(null as varchar) as evidence_value
    from referrals
    inner join population on population.pseudo_id = referrals.pseudo_id
    where referrals.referral_date > {{ project_months_before('talking_therapies', reference_date(), 'contact_lookback_months') }}
       or referrals.first_treatment_date > {{ project_months_before('talking_therapies', reference_date(), 'contact_lookback_months') }}
       or referrals.discharge_date > {{ project_months_before('talking_therapies', reference_date(), 'contact_lookback_months') }}
       or (referrals.discharge_date is null
           and greatest(referrals.referral_date, coalesce(referrals.first_treatment_date, referrals.referral_date))
               > {{ project_months_before('talking_therapies', reference_date(), 'stale_open_referral_months') }})
    group by referrals.pseudo_id
),

evidence_stalled_referral as (
    select referrals.pseudo_id, 'stalled_open_referral' as rule_id, 'evidence' as rule_kind,
           'Open Talking Therapies referral with no activity for over '
               || {{ project_param('talking_therapies', 'stale_open_referral_months', 'integer') }} || ' months (stalled)' as rule_description,
           max(referrals.referral_date) as evidence_date, cast(null as varchar) as evidence_value
    from referrals
    inner join population on population.pseudo_id = referrals.pseudo_id
    where referrals.discharge_date is null
      and greatest(referrals.referral_date, coalesce(referrals.first_treatment_date, referrals.referral_date))
          <= {{ project_months_before('talking_therapies', reference_date(), 'stale_open_referral_months') }}
    group by referrals.pseudo_id
),

excluded_secondary_care as (
    select conditions.pseudo_id, 'secondary_mental_health_care' as rule_id, 'exclusion' as rule_kind,
           'On the severe mental illness register (secondary mental health care)' as rule_description,
           conditions.latest_diagnosis_date as evidence_date, cast(null as varchar) as evidence_value
    from conditions
    inner join population on population.pseudo_id = conditions.pseudo_id
    where conditions.condition = 'smi'
)

select * from rule_adult
union all select * from rule_depression
union all select * from rule_anxiety
union all select * from evidence_long_term_condition
union all select * from excluded_in_contact
union all select * from evidence_stalled_referral
union all select * from excluded_secondary_care
