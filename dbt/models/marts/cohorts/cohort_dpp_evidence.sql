-- Why each person is in cohort_dpp: one row per rule met (long form of its evidence column).
select
    cohort.pseudo_id,
    'dpp' as project,
    rule.rule_id,
    rule.rule_description,
    rule.evidence_date,
    rule.evidence_value,
    cohort.reference_date
from {{ ref('cohort_dpp') }} as cohort,
    unnest(cohort.evidence) as t(rule)
