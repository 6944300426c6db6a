-- Community services contacts: latest version of each contact on or before the reference date.
with contacts as (
    {{ published_increment('community', 'contacts', ['contact_id']) }}
),

keys as (
    select record_id, pseudo_id
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'community' and table_name = 'contacts'
)

select
    contacts.contact_id,
    keys.pseudo_id,
    contacts.contact_date,
    contacts.service,
    contacts.extract_date
from contacts
left join keys on keys.record_id = contacts.contact_id
