-- Outpatient appointments: latest version of each appointment on or before the reference date.
with appointments as (
    {{ published_increment('acute', 'opa', ['appointment_id']) }}
),

keys as (
    select record_id, pseudo_id
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'acute' and table_name = 'opa'
)

select
    appointments.appointment_id,
    keys.pseudo_id,
    appointments.provider_code,
    appointments.appointment_date,
    appointments.treatment_function_code,
    appointments.attended as attendance_status,
    appointments.extract_date
from appointments
left join keys on keys.record_id = appointments.appointment_id
