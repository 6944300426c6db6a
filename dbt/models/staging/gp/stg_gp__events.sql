-- Coded GP journal (newest snapshot on or before the reference date), keyed by pseudo_id.
with events as (
    {{ published_snapshot('gp', 'events') }}
),

keys as (
    select practice_code, record_id, pseudo_id
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'gp' and table_name = 'patients'
)

select
    keys.pseudo_id,
    events.practice_code,
    events.event_date,
    cast(events.snomed_code as varchar) as snomed_code,
    cast(events.value as double) as value,
    events.unit
from events
left join keys
    on keys.practice_code = events.practice_code
    and keys.record_id = events.patient_id
