-- Demographic attributes per registered person, from the GP record of their current
-- registration (falling back to any other GP record of theirs for a value it lacks):
-- sex, SNOMED CT ethnicity code, LSOA 2011; the birth month is that of the one date of birth
-- int_person_birth_dates chooses (the same date exact ages are counted from).
with current_registration as (
    select * from {{ ref('int_registration_current') }}
),

patients as (
    select * from {{ ref('stg_gp__patients') }}
    where pseudo_id is not null
),

birth_dates as (
    select * from {{ ref('int_person_birth_dates') }}
),

current_record as (
    select patients.*
    from patients
    inner join current_registration
        on current_registration.gp_record_key = patients.gp_record_key
),

any_record as (
    select
        pseudo_id,
        min(case when sex in ('M', 'F') then sex end) as sex,
        min(ethnicity_code) as ethnicity_code,
        min(lsoa_code) as lsoa_code
    from patients
    group by pseudo_id
)

select
    current_registration.pseudo_id,
    cast(date_trunc('month', birth_dates.date_of_birth) as date) as birth_month,
    coalesce(nullif(current_record.sex, 'U'), any_record.sex, 'U') as sex,
    coalesce(current_record.ethnicity_code, any_record.ethnicity_code) as ethnicity_code,
    coalesce(current_record.lsoa_code, any_record.lsoa_code) as lsoa_code
from current_registration
left join current_record on current_record.pseudo_id = current_registration.pseudo_id
left join any_record on any_record.pseudo_id = current_registration.pseudo_id
left join birth_dates on birth_dates.pseudo_id = current_registration.pseudo_id
