-- Current registration per person as of the reference date.
-- Rule: of the person's registration periods open on the reference date
-- (start <= reference date, and no end or an end after it), the latest started one
-- (a person who moved practice is counted at the new practice; a duplicate record at a
-- second practice does not double-count them). People with a date of death on or before
-- the reference date on any of their GP records are excluded.
with registrations as (
    select *
    from {{ ref('stg_gp__registrations') }}
    where pseudo_id is not null
),

open_on_reference_date as (
    select *
    from registrations
    where registration_start_date <= {{ reference_date() }}
      and (registration_end_date is null or registration_end_date > {{ reference_date() }})
),

latest_open as (
    select
        *,
        count(*) over (partition by pseudo_id) as open_registrations
    from open_on_reference_date
    qualify row_number() over (
        partition by pseudo_id
        order by registration_start_date desc, practice_code, gp_record_key
    ) = 1
),

deaths as (
    select pseudo_id, min(date_of_death) as date_of_death
    from {{ ref('stg_gp__patients') }}
    where pseudo_id is not null
      and date_of_death is not null
      and date_of_death <= {{ reference_date() }}
    group by pseudo_id
),

practices_ever as (
    select pseudo_id, count(distinct practice_code) as practices_registered_with
    from registrations
    where registration_start_date <= {{ reference_date() }}
    group by pseudo_id
)

select
    latest_open.pseudo_id,
    latest_open.gp_record_key,
    latest_open.practice_code,
    latest_open.registration_start_date,
    latest_open.open_registrations,
    practices_ever.practices_registered_with > 1 as has_moved_practice
from latest_open
left join deaths on deaths.pseudo_id = latest_open.pseudo_id
left join practices_ever on practices_ever.pseudo_id = latest_open.pseudo_id
where deaths.pseudo_id is null
