{#-
  The date every model is computed "as of": dbt var `reference_date` (ISO date), set
  by Dagster from the newest published extract date, or by hand for a backfill:
      dbt build --vars '{reference_date: 2026-09-01}'
  Never CURRENT_DATE: rebuilding a past month must give exactly what it gave then.
-#}
{% macro reference_date() -%}
    {%- set value = var('reference_date', none) -%}
    {%- if value is none -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "var('reference_date') is not set: pass --vars '{reference_date: YYYY-MM-DD}' "
                ~ "(Dagster passes the newest published extract date)") }}
        {%- endif -%}
        date '1900-01-01'
    {%- else -%}
        {%- set text = value | string -%}
        {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', text) -%}
            {{ exceptions.raise_compiler_error("var('reference_date') must be an ISO date YYYY-MM-DD, got " ~ text) }}
        {%- endif -%}
        date '{{ text }}'
    {%- endif -%}
{%- endmacro %}
