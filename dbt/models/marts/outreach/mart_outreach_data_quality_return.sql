-- The data-quality return to each practice: contacts the outreach team reported as a wrong
-- number, incorrect details, deceased or moved away, as of the reference date - one row
-- per person, project and problem (latest report), so the practice can correct its record.
-- Pseudonymised; a practice that approved re-identification receives it with names and
-- NHS numbers from the identity zone (dagster_project/cohorts), never from here.
select
    practice_code,
    pseudo_id,
    project,
    outcome as problem,
    max(contact_date) as latest_reported_date,
    count(*) as times_reported,
    {{ reference_date() }} as reference_date
from {{ ref('stg_outreach__outcomes') }}
where outcome in ('wrong_number', 'incorrect_details', 'deceased', 'moved_away')
group by practice_code, pseudo_id, project, outcome
