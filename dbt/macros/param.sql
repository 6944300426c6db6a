{#-
  A rule parameter (threshold, look-back window, reference date) from the seed
  `rule_parameters` (parameters/rule_parameters.csv), as a scalar SQL expression cast to
  `type`. The value is data, not an edit to SQL; a missing or duplicated parameter stops
  the model with an error naming it rather than silently comparing with NULL.
-#}
{% macro param(name, type='double') -%}
    (select case when count(*) = 1 then cast(any_value(value) as {{ type }})
                 else error('rule parameter {{ name }} is missing from seed rule_parameters (or duplicated)') end
     from {{ ref('rule_parameters') }} where parameter = '{{ name }}')
{%- endmacro %}

{% macro months_before(date_expr, months_param) -%}
    ({{ date_expr }} - to_months({{ param(months_param, 'integer') }}))
{%- endmacro %}
