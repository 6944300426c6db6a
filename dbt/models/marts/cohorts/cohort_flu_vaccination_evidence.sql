-- Why each person is in cohort_flu_vaccination: one row per rule met (long form of its evidence column).
select
    cohort.pseudo_id,
    'flu_vaccination' as project,
    rule.rule_id,
    rule.rule_description,
    rule.evidence_date,
    rule.evidence_value,
    cohort.reference_date
from {{ ref('cohort_flu_vaccination') }} as cohort,
    unnest(cohort.evidence) as t(rule)
