-- Protect NoW: NHS Diabetes Prevention Programme (NDPP), as of the reference date.
--
-- Rules (NICE PH38; NHS England NDPP referral criteria; parameters in seed
-- project_parameters, project dpp):
--   adult                 aged 18 or over;
--   ndh_blood_test        non-diabetic hyperglycaemia: the latest HbA1c (IFCCHBAM_COD) in
--                         the last 12 months is 42-47 mmol/mol, or the latest fasting plasma
--                         glucose (GLUC_COD, local placeholder awaiting the PCD refset) in the
--                         last 12 months is 5.5-6.9 mmol/L; a test 13 months old does not count;
--   ndh_code              (evidence only) on the NDH register (QOF NDH001);
-- Exclusions:
--   diabetes              on the diabetes register (QOF DM017: latest DM_COD not resolved) -
--                         a diabetic with an NDH code is excluded;
--   pregnant              a pregnancy code (PREG_COD) in the last 9 months;
--   already referred      a referral to the NDPP at any time (DPPREF_COD), or a declined
--                         referral in the last 12 months (DPPDEC_COD) - both local clusters
--                         awaiting the PCD DPPOFF/DPPATT/DPPCOMP refsets.
-- clinical_priority: the HbA1c (mmol/mol; for a glucose-only result 42 + (FPG - 5.5) x
-- 5/1.4, the same position in the range): nearer the diabetes threshold first.
with population as (
    select * from {{ ref('int_cohort_population') }}
    where age >= {{ project_param('dpp', 'min_age', 'integer') }}
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

rule_adult as (
    select
        pseudo_id,
        'adult' as rule_id,
        'Aged ' || {{ project_param('dpp', 'min_age', 'integer') }} || ' or over' as rule_description,
        cast(null as date) as evidence_date,
        cast(age as varchar) as evidence_value
    from population
),

rule_ndh_hba1c as (
    select
        pseudo_id,
        'ndh_blood_test:hba1c' as rule_id,
        'Latest HbA1c in the last ' || {{ project_param('dpp', 'lookback_months', 'integer') }} || ' months in the non-diabetic hyperglycaemia range ('
            || printf('%g', {{ project_param('dpp', 'hba1c_min') }}) || '-' || printf('%g', {{ project_param('dpp', 'hba1c_max') }}) || ' mmol/mol)' as rule_description,
        event_date as evidence_date,
        printf('%g', value) || ' mmol/mol' as evidence_value
    from latest_hba1c
    where value >= {{ project_param('dpp', 'hba1c_min') }} and value <= {{ project_param('dpp', 'hba1c_max') }}
),

rule_ndh_fasting_glucose as (
    select
        pseudo_id,
        'ndh_blood_test:fasting_glucose' as rule_id,
        'Latest fasting plasma glucose in the last ' || {{ project_param('dpp', 'lookback_months', 'integer') }} || ' months in the non-diabetic hyperglycaemia range ('
            || printf('%g', {{ project_param('dpp', 'fpg_min') }}) || '-' || printf('%g', {{ project_param('dpp', 'fpg_max') }}) || ' mmol/L)' as rule_description,
        event_date as evidence_date,
        printf('%g', value) || ' mmol/L' as evidence_value
    from latest_fasting_glucose
    where value >= {{ project_param('dpp', 'fpg_min') }} and value <= {{ project_param('dpp', 'fpg_max') }}
),

rule_ndh_code as (
    select
        pseudo_id,
        'ndh_register' as rule_id,
        'On the non-diabetic hyperglycaemia register' as rule_description,
        latest_diagnosis_date as evidence_date,
        cast(null as varchar) as evidence_value
    from {{ ref('fct_conditions') }}
    where condition = 'ndh'
),

excluded_diabetes as (
    select pseudo_id from {{ ref('fct_conditions') }} where condition = 'diabetes'
),

excluded_pregnant as (
    select pseudo_id from ({{ get_observations(['PREG_COD']) }})
    where event_date > {{ project_months_before('dpp', reference_date(), 'pregnancy_lookback_months') }}
),

excluded_already_referred as (
    select pseudo_id from ({{ get_observations(['DPPREF_COD']) }})
    union
    select pseudo_id from ({{ get_observations(['DPPDEC_COD']) }})
    where event_date > {{ project_months_before('dpp', reference_date(), 'decline_lookback_months') }}
),

blood_tests as (
    select * from rule_ndh_hba1c
    union all select * from rule_ndh_fasting_glucose
),

eligible as (
    select distinct blood_tests.pseudo_id
    from blood_tests
    inner join population on population.pseudo_id = blood_tests.pseudo_id
    where blood_tests.pseudo_id not in (select pseudo_id from excluded_diabetes)
      and blood_tests.pseudo_id not in (select pseudo_id from excluded_pregnant)
      and blood_tests.pseudo_id not in (select pseudo_id from excluded_already_referred)
),

evidence as (
    select * from rule_adult
    union all select * from blood_tests
    union all select * from rule_ndh_code
)

select
    evidence.pseudo_id,
    population.practice_code,
    case when bool_or(evidence.rule_id = 'ndh_blood_test:hba1c') then 'ndh_hba1c'
         else 'ndh_fasting_glucose' end as eligibility_group,
    cast(coalesce(
        max(latest_hba1c.value) filter (where evidence.rule_id = 'ndh_blood_test:hba1c'),
        42 + (max(latest_fasting_glucose.value) - {{ project_param('dpp', 'fpg_min') }}) * 5 / 1.4
    ) as double) as clinical_priority,
    {{ cohort_reason_columns() }},
    {{ reference_date() }} as reference_date
from evidence
inner join eligible on eligible.pseudo_id = evidence.pseudo_id
inner join population on population.pseudo_id = evidence.pseudo_id
left join latest_hba1c on latest_hba1c.pseudo_id = evidence.pseudo_id
left join latest_fasting_glucose on latest_fasting_glucose.pseudo_id = evidence.pseudo_id
group by evidence.pseudo_id, population.practice_code
