{#-
  A Protect NoW project parameter (age, interval, look-back, threshold) from the seed
  `project_parameters` (seeds/projects/project_parameters.csv), as a scalar SQL
  expression cast to `type`. Like macro `param`: a missing or duplicated parameter stops
  the model with an error naming it instead of silently comparing with NULL.
-#}
{% macro project_param(project, name, type='double') -%}
    (select case when count(*) = 1 then cast(any_value(value) as {{ type }})
                 else error('project parameter {{ project }}.{{ name }} is missing from seed project_parameters (or duplicated)') end
     from {{ ref('project_parameters') }} where project = '{{ project }}' and parameter = '{{ name }}')
{%- endmacro %}

{% macro project_months_before(project, date_expr, name) -%}
    ({{ date_expr }} - to_months({{ project_param(project, name, 'integer') }}))
{%- endmacro %}
