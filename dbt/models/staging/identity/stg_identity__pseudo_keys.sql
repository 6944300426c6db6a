-- Pseudonymised keys from the identity zone: record key -> pseudo_id. Rename only.
select
    source as source_name,
    "table" as table_name,
    practice_code,
    cast(record_id as varchar) as record_id,
    pseudo_id
from {{ source('identity', 'pseudo_keys') }}
