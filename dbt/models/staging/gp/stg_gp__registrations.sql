-- Registration periods (newest snapshot on or before the reference date), keyed by pseudo_id
-- through the gp.patients record (practice_code, patient_id).
with registrations as (
    {{ published_snapshot('gp', 'registrations') }}
),

keys as (
    select practice_code, record_id, pseudo_id, record_key
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'gp' and table_name = 'patients'
)

select
    keys.pseudo_id,
    keys.record_key as gp_record_key,
    registrations.practice_code,
    registrations.registered_from as registration_start_date,
    registrations.registered_to as registration_end_date,
    registrations.extract_date
from registrations
left join keys
    on keys.practice_code = registrations.practice_code
    and keys.record_id = registrations.patient_id
