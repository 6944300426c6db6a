-- Protect NoW: NHS Diabetes Prevention Programme (NDPP), as of the reference date.
-- The rules, their national source and date are documented beside their SQL in
-- int_cohort_dpp_rules; they are composed by cohort_composed (macros/cohort_composition.sql,
-- shared with mart_outreach_eligible_population): adult, and an NDH blood test or a history
-- of gestational diabetes, and no exclusion.
-- clinical_priority: the HbA1c (mmol/mol; for a glucose-only result 42 + (FPG - 5.5) x
-- 5.9/1.4, the same position in the range; gestational diabetes history alone 42): nearer
-- the diabetes threshold first.
with population as (
    select * from {{ ref('int_cohort_population') }}
),

rules as (
    select * from {{ ref('int_cohort_dpp_rules') }}
),

eligible as (
    select pseudo_id
    from rules
    group by pseudo_id
    having {{ cohort_composed('dpp') }}
),

evidence as (
    select rules.*
    from rules
    inner join eligible on eligible.pseudo_id = rules.pseudo_id
    where rules.rule_kind <> 'exclusion'
)

select
    evidence.pseudo_id,
    population.practice_code,
    case when bool_or(evidence.rule_id = 'ndh_blood_test:hba1c') then 'ndh_hba1c'
         when bool_or(evidence.rule_id = 'ndh_blood_test:fasting_glucose') then 'ndh_fasting_glucose'
         else 'gestational_diabetes_history' end as eligibility_group,
    round(cast(coalesce(
        max(try_cast(split_part(evidence.evidence_value, ' ', 1) as double)) filter (where evidence.rule_id = 'ndh_blood_test:hba1c'),
        {{ project_param('dpp', 'hba1c_min') }}
            + (max(try_cast(split_part(evidence.evidence_value, ' ', 1) as double)) filter (where evidence.rule_id = 'ndh_blood_test:fasting_glucose')
               - {{ project_param('dpp', 'fpg_min') }})
            * ({{ project_param('dpp', 'hba1c_max') }} - {{ project_param('dpp', 'hba1c_min') }})
            / ({{ project_param('dpp', 'fpg_max') }} - {{ project_param('dpp', 'fpg_min') }}),
        {{ project_param('dpp', 'hba1c_min') }}
    ) as double), 2) as clinical_priority,
    {{ cohort_reason_columns() }},
    {{ reference_date() }} as reference_date
from evidence
inner join population on population.pseudo_id = evidence.pseudo_id
group by evidence.pseudo_id, population.practice_code
