-- Why each person is in cohort_bp_checks: one row per rule met (long form of its evidence column).
select
    cohort.pseudo_id,
    'bp_checks' as project,
    rule.rule_id,
    rule.rule_description,
    rule.evidence_date,
    rule.evidence_value,
    cohort.reference_date
from {{ ref('cohort_bp_checks') }} as cohort,
    unnest(cohort.evidence) as t(rule)
