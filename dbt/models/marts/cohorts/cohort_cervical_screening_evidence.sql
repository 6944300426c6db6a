-- Why each person is in cohort_cervical_screening: one row per rule met (long form of its evidence column).
select
    cohort.pseudo_id,
    'cervical_screening' as project,
    rule.rule_id,
    rule.rule_description,
    rule.evidence_date,
    rule.evidence_value,
    cohort.reference_date
from {{ ref('cohort_cervical_screening') }} as cohort,
    unnest(cohort.evidence) as t(rule)
