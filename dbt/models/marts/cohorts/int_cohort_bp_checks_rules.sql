{{ config(schema='intermediate') }}
-- Every blood-pressure-checks rule met, per person, for the rule coverage (cohort_rule_coverage):
-- the rules of cohort_bp_checks (see its header; no exclusion rule), from its evidence.
select pseudo_id, rule_id from {{ ref('cohort_bp_checks_evidence') }}
