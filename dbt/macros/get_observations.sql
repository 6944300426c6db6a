{#-
  Coded GP events whose SNOMED CT code is in any of the given code-list clusters,
  dated on or before the reference date, with the cluster id they matched.

  The one way models select observations: over the one combined code-list table
  `int_codelist_codes` (cluster_id -> codes). `cluster_ids` is a list of cluster ids or a
  SQL subquery returning them (e.g. the clusters named in a definitions seed). Every
  cluster a model names is checked by the generic test `cluster_ids_exist`.

  An event matching two clusters (the same code in HYP_COD and BP_COD, say) is returned
  once per cluster.
-#}
{% macro get_observations(cluster_ids, events=none) -%}
    {%- set events = events or ref('stg_gp__events') -%}
    {%- if cluster_ids is string -%}
        {%- set cluster_filter = cluster_ids -%}
    {%- else -%}
        {%- set cluster_filter -%}
            {%- for c in cluster_ids -%}'{{ c }}'{{ ', ' if not loop.last }}{%- endfor -%}
        {%- endset -%}
    {%- endif -%}
    select
        events.pseudo_id,
        codes.cluster_id,
        events.event_date,
        events.snomed_code,
        events.value,
        events.unit
    from {{ events }} as events
    inner join {{ ref('int_codelist_codes') }} as codes
        on codes.code = events.snomed_code
    where codes.cluster_id in ({{ cluster_filter }})
      and events.event_date <= {{ reference_date() }}
{%- endmacro %}
