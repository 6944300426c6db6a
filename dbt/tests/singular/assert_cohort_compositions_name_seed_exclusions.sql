{{ config(meta={"dagster": {"asset_key": ["warehouse", "mart_outreach_eligible_population"]}}) }}
-- depends_on: {{ ref("mart_outreach_eligible_population") }}
-- Invariant: every exclusion a national cohort's composition lets take a person out of the
-- eligible population (cohort_compositions() `leaves_population`, macros/cohort_composition.sql)
-- is an exclusion registered for that project in seed project_rules: a misspelt rule id would
-- match no rule row and silently keep everyone in the denominator.
with named as (
    {%- set rows = [] -%}
    {%- for project, spec in cohort_compositions().items() -%}
        {%- for rule in spec.leaves_population -%}
            {%- do rows.append("('" ~ project ~ "', '" ~ rule ~ "')") -%}
        {%- endfor -%}
    {%- endfor %}
    select * from (values {{ rows | join(', ') }}) as t(project, rule_id)
)

select named.project, named.rule_id
from named
left join {{ ref('project_rules') }} as rules
    on rules.project = named.project and rules.rule_id = named.rule_id and rules.rule_kind = 'exclusion'
where rules.rule_id is null
