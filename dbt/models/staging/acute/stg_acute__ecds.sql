-- Emergency care attendances: latest version of each attendance on or before the reference date.
with attendances as (
    {{ published_increment('acute', 'ecds', ['attendance_id']) }}
),

keys as (
    select record_id, pseudo_id
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'acute' and table_name = 'ecds'
)

select
    attendances.attendance_id,
    keys.pseudo_id,
    attendances.provider_code,
    attendances.arrival_date,
    cast(attendances.chief_complaint_snomed as varchar) as chief_complaint_code,
    cast(attendances.discharge_destination_snomed as varchar) as discharge_destination_code,
    attendances.extract_date
from attendances
left join keys on keys.record_id = attendances.attendance_id
