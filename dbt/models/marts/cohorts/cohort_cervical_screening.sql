-- Protect NoW: cervical screening catch-up, as of the reference date.
-- The rules, their national sources and dates are documented beside their SQL in
-- int_cohort_cervical_screening_rules; they are composed by cohort_composed (macros/
-- cohort_composition.sql, shared with mart_outreach_eligible_population): every inclusion
-- (has_cervix, age_in_range, overdue) and no exclusion (ceased, declined, cervix_removed).
-- eligibility_group: never_screened (no adequate test anywhere in the record),
-- early_recall_overdue (HPV-positive, 12-month recall missed), overdue_25_49, overdue_50_64.
-- clinical_priority: months since the latest adequate test (never screened = 999), so the
-- longest overdue come first.
with population as (
    select * from {{ ref('int_cohort_population') }}
),

rules as (
    select * from {{ ref('int_cohort_cervical_screening_rules') }}
),

eligible as (
    select pseudo_id
    from rules
    group by pseudo_id
    having {{ cohort_composed('cervical_screening') }}
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
    case
        when bool_or(evidence.rule_id = 'history:never_screened') then 'never_screened'
        when bool_or(evidence.rule_id = 'recall_interval:hpv_positive_early_recall') then 'early_recall_overdue'
        when bool_or(evidence.rule_id = 'recall_interval:aged_50_64') then 'overdue_50_64'
        else 'overdue_25_49'
    end as eligibility_group,
    cast(coalesce(date_diff('month', max(evidence.evidence_date) filter (where evidence.rule_id = 'overdue'),
                            {{ reference_date() }}), 999) as double) as clinical_priority,
    {{ cohort_reason_columns() }},
    {{ reference_date() }} as reference_date
from evidence
inner join population on population.pseudo_id = evidence.pseudo_id
group by evidence.pseudo_id, population.practice_code
