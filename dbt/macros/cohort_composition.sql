{#- The composition of each national Protect NoW cohort from its rules model
    (int_cohort_<project>_rules: one row per rule a person meets, rule_kind inclusion /
    exclusion / evidence; each rule's national source and date is documented beside its SQL
    there and in seed project_rules). One owner, read by cohort_<project> (who still needs
    the action) and by mart_outreach_eligible_population (whom the project applies to: the
    denominator of coverage and gap), so the two cannot drift apart.
      applies_to         conditions on one rule row, each met by at least one of the person's
                         rows: whom the project applies to;
      needs              further such conditions the cohort also requires (still needs the
                         action: cervical screening's `overdue`);
      leaves_population  the exclusions that take a person out of the population too (out of
                         scope: ceased, cervix removed, contraindicated, diabetic...). Every
                         other exclusion means "done" or "said no" (vaccinated, screened,
                         declined, already referred, in contact): out of the cohort, still in
                         the denominator, as national uptake counts decliners.
    The cohort requires applies_to and needs, and no exclusion of any kind. -#}
{% macro cohort_compositions() %}
    {{ return({
        'cervical_screening': {
            'applies_to': ["rule_id = 'has_cervix'", "rule_id = 'age_in_range'"],
            'needs': ["rule_id = 'overdue'"],
            'leaves_population': ['ceased', 'cervix_removed']},
        'flu_vaccination': {
            'applies_to': ["rule_kind = 'inclusion'"],
            'needs': [],
            'leaves_population': []},
        'covid_vaccination': {
            'applies_to': ["rule_kind = 'inclusion'"],
            'needs': [],
            'leaves_population': ['contraindicated']},
        'talking_therapies': {
            'applies_to': ["rule_id = 'adult'", "rule_id like 'condition:%'"],
            'needs': [],
            'leaves_population': ['secondary_mental_health_care']},
        'dpp': {
            'applies_to': ["rule_id = 'adult'",
                           "(rule_id like 'ndh_blood_test:%' or rule_id = 'gestational_diabetes_history')"],
            'needs': [],
            'leaves_population': ['diabetes', 'pregnant']},
    }) }}
{% endmacro %}


{#- The condition, over a national project's rules rows grouped by pseudo_id (a HAVING
    clause), that selects its people: scope 'cohort' (applies, needs the action, no
    exclusion) or 'population' (applies, none of the exclusions that leave the population). -#}
{% macro cohort_composed(project, scope='cohort') -%}
    {%- set compositions = cohort_compositions() -%}
    {%- if project not in compositions -%}
        {{ exceptions.raise_compiler_error("cohort_composed: no composition for project '" ~ project
            ~ "' in macros/cohort_composition.sql (national projects: " ~ compositions.keys() | join(', ') ~ ")") }}
    {%- endif -%}
    {%- if scope not in ('cohort', 'population') -%}
        {{ exceptions.raise_compiler_error("cohort_composed: scope must be 'cohort' or 'population', not '" ~ scope ~ "'") }}
    {%- endif -%}
    {%- set spec = compositions[project] -%}
    {%- set terms = [] -%}
    {%- for condition in spec.applies_to + (spec.needs if scope == 'cohort' else []) -%}
        {%- do terms.append('bool_or(' ~ condition ~ ')') -%}
    {%- endfor -%}
    {%- if scope == 'cohort' -%}
        {%- do terms.append("not bool_or(rule_kind = 'exclusion')") -%}
    {%- else -%}
        {%- for rule in spec.leaves_population -%}
            {%- do terms.append("not bool_or(rule_kind = 'exclusion' and rule_id = '" ~ rule ~ "')") -%}
        {%- endfor -%}
    {%- endif -%}
    {{- terms | join('\n       and ') -}}
{% endmacro %}
