{{ config(schema='intermediate') }}
-- Every NHS Diabetes Prevention Programme rule and exclusion met, per person, as of the
-- reference date (rule_kind inclusion / exclusion / evidence). cohort_dpp composes them.
--
-- Source: NHS England NDPP referral criteria (checked 2026-11, CLINICAL_RULES.md): adults
-- 18+ with non-diabetic hyperglycaemia in the last 12 months - HbA1c 42-47.9 mmol/mol or
-- fasting plasma glucose 5.5-6.9 mmol/L - or a history of gestational diabetes (a normal or
-- no recent blood test is acceptable); not with diagnosed diabetes (resolved codes
-- respected), not currently pregnant. Offered / declined / referred codes shape re-offers
-- (project policy, parameter reoffer_window_months).
-- Inclusions (adult, and a blood test or the gestational diabetes history):
--   adult                        18 or over to the day;
--   ndh_blood_test:hba1c         the latest HbA1c (IFCCHBAM_COD, measure hba1c) in the last
--                                12 months is 42-47.9 mmol/mol;
--   ndh_blood_test:fasting_glucose  the latest fasting glucose (GLUC_COD, 271062006) in the
--                                last 12 months is 5.5-6.9 mmol/L;
--   gestational_diabetes_history a gestational diabetes code (PRIMIS GDIAB_COD) at any time.
-- Exclusions:
--   diabetes          on the diabetes register (QOF DM017: latest DM_COD not followed by
--                     DMRES_COD - a resolved diabetic is not excluded);
--   pregnant          a pregnancy code in the last 9 months;
--   already_referred  a referral to the NDPP (DPPREF_COD 1025321000000109) at any time;
--   recently_offered  an NDPP invitation (DPPINV_COD 1090701000000104) or a declined
--                     referral (DPPDEC_COD 1025301000000100) in the re-offer window (12
--                     months): offered again after it.
-- evidence: ndh_register (on the NDH register, QOF NDH001).
-- Switched off (seed project_rules): attended / completed (no public concept ids found for
-- PCD DPPATT_COD / DPPCOMP_COD; a referral at any time stands in), eating disorder and
-- bariatric surgery provider exclusions (not implemented).
with population as (
    select * from {{ ref('int_cohort_population') }}
),

latest_hba1c as (
    select pseudo_id, event_date, value
    from {{ ref('int_observations_all') }}
    where measure = 'hba1c'
      and event_date > {{ project_months_before('dpp', reference_date(), 'lookback_months') }}
    qualify row_number() over (partition by pseudo_id order by event_date desc, value desc) = 1
),

latest_fasting_glucose as (
    select pseudo_id, event_date, value
    from ({{ get_observations(['GLUC_COD']) }})
    where value is not null
      and event_date > {{ project_months_before('dpp', reference_date(), 'lookback_months') }}
    qualify row_number() over (partition by pseudo_id order by event_date desc, value desc) = 1
),

coded as (
    select
        pseudo_id,
        max(event_date) filter (where cluster_id = 'GDIAB_COD') as gdm_date,
        max(event_date) filter (where cluster_id = 'PREG_COD'
            and event_date > {{ project_months_before('dpp', reference_date(), 'pregnancy_lookback_months') }}) as pregnancy_date,
        max(event_date) filter (where cluster_id = 'DPPREF_COD') as referral_date,
        max(event_date) filter (where cluster_id in ('DPPINV_COD', 'DPPDEC_COD')
            and event_date > {{ project_months_before('dpp', reference_date(), 'reoffer_window_months') }}) as offer_date
    from ({{ get_observations(['GDIAB_COD', 'PREG_COD', 'DPPREF_COD', 'DPPINV_COD', 'DPPDEC_COD']) }})
    group by pseudo_id
),

rule_adult as (
    select pseudo_id, 'adult' as rule_id, 'inclusion' as rule_kind,
           'Aged ' || {{ project_param('dpp', 'min_age', 'integer') }} || ' or over' as rule_description,
           cast(null as date) as evidence_date, cast(age as varchar) as evidence_value
    from population
    where age >= {{ project_param('dpp', 'min_age', 'integer') }}
),

rule_ndh_hba1c as (
    select
        latest_hba1c.pseudo_id,
        'ndh_blood_test:hba1c' as rule_id,
        'inclusion' as rule_kind,
        'Latest HbA1c in the last ' || {{ project_param('dpp', 'lookback_months', 'integer') }} || ' months in the non-diabetic hyperglycaemia range ('
            || printf('%g', {{ project_param('dpp', 'hba1c_min') }}) || '-' || printf('%g', {{ project_param('dpp', 'hba1c_max') }}) || ' mmol/mol)' as rule_description,
        latest_hba1c.event_date as evidence_date,
        printf('%g', latest_hba1c.value) || ' mmol/mol' as evidence_value
    from latest_hba1c
    inner join population on population.pseudo_id = latest_hba1c.pseudo_id
    where latest_hba1c.value >= {{ project_param('dpp', 'hba1c_min') }} and latest_hba1c.value <= {{ project_param('dpp', 'hba1c_max') }}
),

rule_ndh_fasting_glucose as (
    select
        latest_fasting_glucose.pseudo_id,
        'ndh_blood_test:fasting_glucose' as rule_id,
        'inclusion' as rule_kind,
        'Latest fasting plasma glucose in the last ' || {{ project_param('dpp', 'lookback_months', 'integer') }} || ' months in the non-diabetic hyperglycaemia range ('
            || printf('%g', {{ project_param('dpp', 'fpg_min') }}) || '-' || printf('%g', {{ project_param('dpp', 'fpg_max') }}) || ' mmol/L)' as rule_description,
        latest_fasting_glucose.event_date as evidence_date,
        printf('%g', latest_fasting_glucose.value) || ' mmol/L' as evidence_value
    from latest_fasting_glucose
    inner join population on population.pseudo_id = latest_fasting_glucose.pseudo_id
    where latest_fasting_glucose.value >= {{ project_param('dpp', 'fpg_min') }}
      and latest_fasting_glucose.value <= {{ project_param('dpp', 'fpg_max') }}
),

rule_gestational_diabetes as (
    select coded.pseudo_id, 'gestational_diabetes_history' as rule_id, 'inclusion' as rule_kind,
           'History of gestational diabetes' as rule_description,
           coded.gdm_date as evidence_date, cast(null as varchar) as evidence_value
    from coded
    inner join population on population.pseudo_id = coded.pseudo_id
    where coded.gdm_date is not null
),

evidence_ndh_register as (
    select conditions.pseudo_id, 'ndh_register' as rule_id, 'evidence' as rule_kind,
           'On the non-diabetic hyperglycaemia register' as rule_description,
           conditions.latest_diagnosis_date as evidence_date, cast(null as varchar) as evidence_value
    from {{ ref('fct_conditions') }} as conditions
    inner join population on population.pseudo_id = conditions.pseudo_id
    where conditions.condition = 'ndh'
),

excluded_diabetes as (
    select conditions.pseudo_id, 'diabetes' as rule_id, 'exclusion' as rule_kind,
           'On the diabetes register (latest diabetes code not resolved)' as rule_description,
           conditions.latest_diagnosis_date as evidence_date, cast(null as varchar) as evidence_value
    from {{ ref('fct_conditions') }} as conditions
    inner join population on population.pseudo_id = conditions.pseudo_id
    where conditions.condition = 'diabetes'
),

excluded_pregnant as (
    select pseudo_id, 'pregnant' as rule_id, 'exclusion' as rule_kind,
           'Pregnant (pregnancy code in the last ' || {{ project_param('dpp', 'pregnancy_lookback_months', 'integer') }} || ' months)' as rule_description,
           pregnancy_date as evidence_date, cast(null as varchar) as evidence_value
    from coded where pregnancy_date is not null
),

excluded_already_referred as (
    select pseudo_id, 'already_referred' as rule_id, 'exclusion' as rule_kind,
           'Already referred to the NHS Diabetes Prevention Programme' as rule_description,
           referral_date as evidence_date, cast(null as varchar) as evidence_value
    from coded where referral_date is not null
),

excluded_recently_offered as (
    select pseudo_id, 'recently_offered' as rule_id, 'exclusion' as rule_kind,
           'Offered the programme or declined a referral in the last '
               || {{ project_param('dpp', 'reoffer_window_months', 'integer') }} || ' months' as rule_description,
           offer_date as evidence_date, cast(null as varchar) as evidence_value
    from coded where offer_date is not null
)

select * from rule_adult
union all select * from rule_ndh_hba1c
union all select * from rule_ndh_fasting_glucose
union all select * from rule_gestational_diabetes
union all select * from evidence_ndh_register
union all select * from excluded_diabetes
union all select * from excluded_pregnant
union all select * from excluded_already_referred
union all select * from excluded_recently_offered
