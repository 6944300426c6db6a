{#- Every row satisfies `expression` (a SQL boolean over the model's columns). -#}
{% test expression_is_true(model, expression, column_name=none) %}
select * from {{ model }} where not coalesce(({{ expression }}), false)
{% endtest %}
