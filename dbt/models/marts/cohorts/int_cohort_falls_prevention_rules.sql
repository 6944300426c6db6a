{{ config(schema='intermediate') }}
-- Every falls-prevention rule met, per person, for the rule coverage (cohort_rule_coverage):
-- the rules of cohort_falls_prevention (see its header; no exclusion rule), from its evidence.
select pseudo_id, rule_id from {{ ref('cohort_falls_prevention_evidence') }}
