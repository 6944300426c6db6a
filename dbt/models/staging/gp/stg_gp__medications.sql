-- Medication issues (newest snapshot on or before the reference date), keyed by pseudo_id.
with medications as (
    {{ published_snapshot('gp', 'medications') }}
),

keys as (
    select practice_code, record_id, pseudo_id
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'gp' and table_name = 'patients'
)

select
    keys.pseudo_id,
    medications.practice_code,
    medications.issue_date,
    cast(medications.dmd_code as varchar) as dmd_code
from medications
left join keys
    on keys.practice_code = medications.practice_code
    and keys.record_id = medications.patient_id
