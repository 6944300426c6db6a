-- Condition registers as of the reference date, built the way QOF builds them
-- (NHS England Primary Care Domain business rules, QOF 2023/24), for the living registered
-- population. One row per person on a register.
--
-- Generic rule (HYP, DM, COPD, CHD, CKD, HF, AF, DEM, SMI, LD, STIA, anxiety):
--   the person has a diagnosis code, and their latest diagnosis code is later than
--   their latest resolved code (a later resolved code undoes the diagnosis; a new
--   diagnosis after a resolution puts them back), and they are at least the register's
--   minimum age on the reference date. The diagnosis date reported is the earliest.
-- Condition-specific rules, one CTE each below:
--   depression  latest episode on/after 2006-04-01 (DEP004);
--   cancer      first diagnosis on/after 2003-04-01 (CAN001);
--   asthma      plus an asthma drug issued in the last 12 months (AST005);
--   ndh         not on the diabetes register (NDH001);
--   obesity     latest BMI in the last 12 months >= 30 (OB002), no diagnosis code.
-- Ages, look-backs, dates and thresholds come from seed rule_parameters.
with rules as (
    select * from {{ ref('register_rules') }}
),

people as (
    select
        registration.pseudo_id,
        {{ age_at('attributes.birth_month', reference_date()) }} as age
    from {{ ref('int_registration_current') }} as registration
    inner join {{ ref('int_person_attributes') }} as attributes
        on attributes.pseudo_id = registration.pseudo_id
),

condition_events as (
    select * from {{ ref('int_condition_events_all') }}
),

coded_history as (
    select
        pseudo_id,
        condition,
        min(case when role = 'diagnosis' then event_date end) as first_diagnosis_date,
        max(case when role = 'diagnosis' then event_date end) as latest_diagnosis_date,
        max(case when role = 'resolved' then event_date end) as latest_resolved_date
    from condition_events
    group by pseudo_id, condition
),

unresolved_diagnoses as (
    select
        coded_history.*,
        people.age,
        rules.rule,
        rules.min_age
    from coded_history
    inner join people on people.pseudo_id = coded_history.pseudo_id
    inner join rules on rules.condition = coded_history.condition
    where coded_history.latest_diagnosis_date is not null
      and (coded_history.latest_resolved_date is null
           or coded_history.latest_diagnosis_date > coded_history.latest_resolved_date)
      and people.age >= rules.min_age
),

generic_registers as (
    select pseudo_id, condition, first_diagnosis_date, latest_diagnosis_date
    from unresolved_diagnoses
    where rule = 'generic'
),

depression_register as (
    select pseudo_id, condition, first_diagnosis_date, latest_diagnosis_date
    from unresolved_diagnoses
    where rule = 'depression'
      and latest_diagnosis_date >= {{ param('depression_diagnosed_on_or_after', 'date') }}
),

cancer_register as (
    select pseudo_id, condition, first_diagnosis_date, latest_diagnosis_date
    from unresolved_diagnoses
    where rule = 'cancer'
      and first_diagnosis_date >= {{ param('cancer_diagnosed_on_or_after', 'date') }}
),

asthma_drug_in_last_12_months as (
    select distinct medications.pseudo_id
    from {{ ref('stg_gp__medications') }} as medications
    inner join {{ ref('int_codelist_codes') }} as codes
        on codes.code = medications.dmd_code and codes.cluster_id = 'ASTRXM1_COD'
    where medications.issue_date <= {{ reference_date() }}
      and medications.issue_date > {{ months_before(reference_date(), 'asthma_treatment_lookback_months') }}
),

asthma_register as (
    select pseudo_id, condition, first_diagnosis_date, latest_diagnosis_date
    from unresolved_diagnoses
    where rule = 'asthma'
      and pseudo_id in (select pseudo_id from asthma_drug_in_last_12_months)
),

ndh_register as (
    select pseudo_id, condition, first_diagnosis_date, latest_diagnosis_date
    from unresolved_diagnoses
    where rule = 'ndh'
      and pseudo_id not in (
          select pseudo_id from generic_registers where condition = 'diabetes')
),

latest_bmi_in_last_12_months as (
    select pseudo_id, event_date, value
    from {{ ref('int_observations_all') }}
    where measure = 'bmi'
      and event_date > {{ months_before(reference_date(), 'obesity_lookback_months') }}
    qualify row_number() over (partition by pseudo_id order by event_date desc, value desc) = 1
),

obesity_register as (
    select
        bmi.pseudo_id,
        'obesity' as condition,
        bmi.event_date as first_diagnosis_date,
        bmi.event_date as latest_diagnosis_date
    from latest_bmi_in_last_12_months as bmi
    inner join people on people.pseudo_id = bmi.pseudo_id
    where bmi.value >= {{ param('obesity_bmi_threshold') }}
      and people.age >= {{ param('obesity_min_age', 'integer') }}
),

registers as (
    select * from generic_registers
    union all select * from depression_register
    union all select * from cancer_register
    union all select * from asthma_register
    union all select * from ndh_register
    union all select * from obesity_register
)

select
    registers.pseudo_id,
    registers.condition,
    rules.condition_label,
    registers.first_diagnosis_date,
    registers.latest_diagnosis_date,
    rules.counts_as_ltc
from registers
inner join rules on rules.condition = registers.condition
