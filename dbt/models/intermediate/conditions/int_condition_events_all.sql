-- Every diagnosis and resolved code of a condition register, on or before the reference
-- date, for everyone (living or not): the dated facts the registers and the risk
-- back-test are built from. Which clusters diagnose or resolve which condition is data
-- (seed register_clusters).
with clusters as (
    select * from {{ ref('register_clusters') }}
),

observations as (
    {{ get_observations("select cluster_id from " ~ ref('register_clusters')) }}
)

select
    observations.pseudo_id,
    clusters.condition,
    clusters.role,
    observations.event_date,
    observations.snomed_code,
    observations.cluster_id
from observations
inner join clusters on clusters.cluster_id = observations.cluster_id
where observations.pseudo_id is not null
