-- Why each person is in cohort_falls_prevention: one row per rule met (long form of its evidence column).
select
    cohort.pseudo_id,
    'falls_prevention' as project,
    rule.rule_id,
    rule.rule_description,
    rule.evidence_date,
    rule.evidence_value,
    cohort.reference_date
from {{ ref('cohort_falls_prevention') }} as cohort,
    unnest(cohort.evidence) as t(rule)
