{{ config(materialized='ephemeral') }}
-- Date of birth per person, read from the GP patients extract for one purpose only: to
-- count ages to the day (int_person_ages). Ephemeral on purpose: it is inlined into
-- int_person_ages and never written to the warehouse, so no pseudonymised table holds a
-- date of birth (the marts keep birth_month and exact ages at the rules' dates).
-- A person with GP records that disagree takes the earliest date (as dim_person's
-- birth_month does).
with patients as (
    {{ published_snapshot('gp', 'patients') }}
),

keys as (
    select practice_code, record_id, pseudo_id
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'gp' and table_name = 'patients'
)

select keys.pseudo_id, min(cast(patients.date_of_birth as date)) as date_of_birth
from patients
inner join keys
    on keys.practice_code = patients.practice_code
    and keys.record_id = patients.patient_id
where patients.date_of_birth is not null
group by keys.pseudo_id
