-- Protect NoW: NHS Talking Therapies, as of the reference date.
-- The rules, sources and dates are documented beside their SQL in
-- int_cohort_talking_therapies_rules; they are composed by cohort_composed (macros/
-- cohort_composition.sql, shared with mart_outreach_eligible_population): adult, depression
-- or anxiety, and no exclusion (in contact with the service, secondary mental health care).
-- clinical_priority: 2 for a long-term condition plus depression/anxiety (the integrated
-- LTC pathway), +1 when depression or anxiety was coded in the last 24 months.
with population as (
    select * from {{ ref('int_cohort_population') }}
),

rules as (
    select * from {{ ref('int_cohort_talking_therapies_rules') }}
),

eligible as (
    select pseudo_id
    from rules
    group by pseudo_id
    having {{ cohort_composed('talking_therapies') }}
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
    case when bool_or(evidence.rule_id = 'long_term_condition') then 'ltc_with_depression_or_anxiety'
         else 'depression_or_anxiety' end as eligibility_group,
    cast(2 * bool_or(evidence.rule_id = 'long_term_condition')::int
         + bool_or(evidence.rule_id like 'condition:%'
                   and evidence.evidence_date > {{ project_months_before('talking_therapies', reference_date(), 'recent_episode_months') }})::int
         as double) as clinical_priority,
    {{ cohort_reason_columns() }},
    {{ reference_date() }} as reference_date
from evidence
inner join population on population.pseudo_id = evidence.pseudo_id
group by evidence.pseudo_id, population.practice_code
