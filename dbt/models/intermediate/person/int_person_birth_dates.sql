{{ config(materialized='ephemeral') }}
-- Date of birth per person, read from the GP patients extract for two purposes only: exact
-- ages to the day (int_person_ages) and the birth month of dim_person (int_person_attributes).
-- Ephemeral on purpose: it is inlined into those models and never written to the warehouse,
-- so no pseudonymised table holds a date of birth.
-- One date per person, the same for both: the date on the GP record of the current
-- registration (what the practice holds and reads), else the date most of the person's GP
-- records agree on, ties to the earliest. A date after the reference date or giving an age
-- over 120 is a recording error (a typed year, a day/month swap: the generator makes them, as
-- real extracts do); it is chosen only when the person has no other date, so one mistyped
-- record beside a good one cannot make someone 122 or put a 45-year-old in a 65+ cohort.
-- A person whose only dates are implausible keeps the current record's (dim_person's age
-- tests then name them; turning that into an unknown age is open work).
with patients as (
    {{ published_snapshot('gp', 'patients') }}
),

keys as (
    select practice_code, record_id, pseudo_id, record_key
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'gp' and table_name = 'patients'
),

current_registration as (
    select gp_record_key from {{ ref('int_registration_current') }}
),

dates as (
    select
        keys.pseudo_id,
        keys.record_key,
        cast(patients.date_of_birth as date) as date_of_birth,
        cast(patients.date_of_birth as date) <= {{ reference_date() }}
            and {{ age_at('cast(patients.date_of_birth as date)', reference_date()) }} <= 120 as plausible
    from patients
    inner join keys
        on keys.practice_code = patients.practice_code
        and keys.record_id = patients.patient_id
    where patients.date_of_birth is not null
),

ranked as (
    select
        dates.pseudo_id,
        dates.date_of_birth,
        dates.plausible,
        max(case when current_registration.gp_record_key is not null then 1 else 0 end)
            over (partition by dates.pseudo_id, dates.date_of_birth) as on_current_record,
        count(*) over (partition by dates.pseudo_id, dates.date_of_birth) as records_with_date
    from dates
    left join current_registration on current_registration.gp_record_key = dates.record_key
)

select pseudo_id, date_of_birth
from ranked
qualify row_number() over (
    partition by pseudo_id
    order by plausible desc, on_current_record desc, records_with_date desc, date_of_birth
) = 1
