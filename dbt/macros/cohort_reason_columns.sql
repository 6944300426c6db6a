{#- The reasons a person qualified, in the shape every cohort model shares: rule ids,
    their descriptions, and one evidence struct per rule met (ordered by rule id). Expects
    an `evidence` relation (pseudo_id, rule_id, rule_description, evidence_date,
    evidence_value) in the FROM clause and a GROUP BY per person. -#}
{% macro cohort_reason_columns() %}
    string_agg(evidence.rule_id, ';' order by evidence.rule_id) as reason_ids,
    string_agg(evidence.rule_description, '; ' order by evidence.rule_id) as reasons,
    list(struct_pack(
        rule_id := evidence.rule_id,
        rule_description := evidence.rule_description,
        evidence_date := evidence.evidence_date,
        evidence_value := evidence.evidence_value) order by evidence.rule_id) as evidence
{%- endmacro %}
