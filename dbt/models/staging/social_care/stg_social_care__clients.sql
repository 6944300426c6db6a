-- Adult social care client services (newest snapshot on or before the reference date);
-- identity fields dropped, the client id replaced by pseudo_id and a keyed record key (HMAC, identity zone).
with clients as (
    {{ published_snapshot('social_care', 'clients') }}
),

keys as (
    select record_id, pseudo_id, record_key
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'social_care' and table_name = 'clients'
)

select
    keys.record_key as client_record_key,
    keys.pseudo_id,
    clients.service_type,
    clients.service_start as service_start_date,
    clients.service_end as service_end_date,
    clients.extract_date
from clients
left join keys on keys.record_id = cast(clients.client_id as varchar)
