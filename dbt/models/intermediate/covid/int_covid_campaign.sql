-- The COVID-19 campaign of the reference date, defined once for every model that needs it
-- (the COVID cohort, its rules, the uptake measure): the latest campaign of seed
-- covid_campaigns started on or before the reference date (one row; none before the
-- first), with its status (confirmed / assumed) and source. is_open: the reference date is
-- within the campaign (the cohort calls people only then; the uptake measure after the
-- campaign's end reports the campaign just ended).
select
    campaign_id,
    title,
    start_date,
    end_date,
    age_reference_date,
    min_age,
    care_home_min_age,
    status,
    source,
    {{ reference_date() }} <= end_date as is_open
from {{ ref('covid_campaigns') }}
where start_date <= {{ reference_date() }}
qualify row_number() over (order by start_date desc) = 1
