{#- Schemas are the layer names (staging, intermediate, marts, reference), not
    "<target>_<layer>": the warehouse has one target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
