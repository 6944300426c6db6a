{{ config(meta={"dagster": {"asset_key": ["warehouse", "mart_segmentation"]}}) }}
-- Invariant: every living registered person (dim_person) is in exactly one Bridges to
-- Health segment, and nobody is segmented who is not in dim_person.
with people as (
    select pseudo_id from {{ ref('dim_person') }}
),

segmented as (
    select pseudo_id, count(*) as segments
    from {{ ref('mart_segmentation') }}
    group by pseudo_id
)

select
    coalesce(people.pseudo_id, segmented.pseudo_id) as pseudo_id,
    coalesce(segmented.segments, 0) as segments,
    people.pseudo_id is not null as in_dim_person
from people
full outer join segmented on segmented.pseudo_id = people.pseudo_id
where people.pseudo_id is null or coalesce(segmented.segments, 0) <> 1
