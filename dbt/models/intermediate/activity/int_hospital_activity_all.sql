-- Every hospital activity event on or before the reference date, one row per event:
--   emergency_admission  APC spell with admission method 21-2D (NHS Data Dictionary:
--                        emergency admission methods start with '2');
--   elective_admission   APC spell with admission method 11-13;
--   ae_attendance        ECDS attendance;
--   outpatient_dna       OPA appointment the patient did not attend (attended = 'DNA');
--   outpatient_attended  OPA appointment attended.
with spells as (
    select * from {{ ref('stg_acute__apc') }} where pseudo_id is not null
),

attendances as (
    select * from {{ ref('stg_acute__ecds') }} where pseudo_id is not null
),

appointments as (
    select * from {{ ref('stg_acute__opa') }} where pseudo_id is not null
)

select
    pseudo_id,
    case when admission_method_code like '2%' then 'emergency_admission'
         when admission_method_code like '1%' then 'elective_admission'
         else 'other_admission' end as activity_type,
    admission_date as activity_date,
    spell_id as record_id
from spells
where admission_date <= {{ reference_date() }}

union all

select pseudo_id, 'ae_attendance', arrival_date, attendance_id
from attendances
where arrival_date <= {{ reference_date() }}

union all

select
    pseudo_id,
    case attendance_status when 'DNA' then 'outpatient_dna'
                           when 'Y' then 'outpatient_attended'
                           else 'outpatient_cancelled' end,
    appointment_date,
    appointment_id
from appointments
where appointment_date <= {{ reference_date() }}
