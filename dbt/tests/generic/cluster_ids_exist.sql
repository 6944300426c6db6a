{#-
  Every code-list cluster a model names exists in the combined code-list table
  (int_codelist_codes) and has at least one code (after NCL's `cluster_ids_exist`).
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
    select cluster_id, count(*) as codes
    from {{ ref('int_codelist_codes') }}
    group by cluster_id
)

select named.cluster_id, coalesce(codes.codes, 0) as codes
from named
left join codes on codes.cluster_id = named.cluster_id
where coalesce(codes.codes, 0) = 0
{% endtest %}
