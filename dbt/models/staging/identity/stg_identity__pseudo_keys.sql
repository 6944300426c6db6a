-- Pseudonymised keys from the identity zone: record key -> pseudo_id, and the keyed record
-- key (HMAC with PHM_PSEUDO_KEY, computed in the identity zone) that replaces any plain hash
-- of a local patient or client id in the warehouse. Rename only.
select
    source as source_name,
    "table" as table_name,
    practice_code,
    cast(record_id as varchar) as record_id,
    pseudo_id,
    record_key
from {{ source('identity', 'pseudo_keys') }}
