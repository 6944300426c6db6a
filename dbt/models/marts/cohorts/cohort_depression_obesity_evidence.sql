-- Why each person is in cohort_depression_obesity: one row per rule met (long form of its evidence column).
select
    cohort.pseudo_id,
    'depression_obesity' as project,
    rule.rule_id,
    rule.rule_description,
    rule.evidence_date,
    rule.evidence_value,
    cohort.reference_date
from {{ ref('cohort_depression_obesity') }} as cohort,
    unnest(cohort.evidence) as t(rule)
