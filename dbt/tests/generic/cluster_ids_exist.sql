{#-
  Every code-list cluster a model names exists in the combined code-list table
  (int_codelist_codes) with at least one code, and none of its codes is a placeholder
  (after NCL's `cluster_ids_exist`). A SNOMED CT concept id or dm+d id is 6 to 18 digits;
  anything else ("LOCAL-...-PLACEHOLDER", a blank), or a term that calls itself a
  placeholder, fails the build: a placeholder matches no event and silently switches its
  rule off. A rule that cannot be implemented is switched off in seed project_rules instead.
  Use on a column holding cluster ids (e.g. seed register_clusters.cluster_id), or on a
  model with `cluster_ids: [...]` listing the clusters its SQL names literally.
-#}
{% test cluster_ids_exist(model, column_name=none, cluster_ids=none) %}
with named as (
    {%- if cluster_ids %}
    {%- for c in cluster_ids %}
    select '{{ c }}' as cluster_id{{ ' union all' if not loop.last }}
    {%- endfor %}
    {%- else %}
    select distinct {{ column_name }} as cluster_id from {{ model }} where {{ column_name }} is not null
    {%- endif %}
),

codes as (
    select
        cluster_id,
        count(*) as codes,
        count(*) filter (where not regexp_full_match(coalesce(code, ''), '[0-9]{6,18}')
                            or coalesce(term, '') ilike '%placeholder%') as placeholders
    from {{ ref('int_codelist_codes') }}
    group by cluster_id
)

select named.cluster_id, coalesce(codes.codes, 0) as codes, coalesce(codes.placeholders, 0) as placeholders
from named
left join codes on codes.cluster_id = named.cluster_id
where coalesce(codes.codes, 0) = 0 or coalesce(codes.placeholders, 0) > 0
{% endtest %}
