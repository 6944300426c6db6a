-- The flu season of the reference date, defined once for every model that needs it (the
-- flu cohort, its rules, the uptake denominators): the latest season of seed flu_seasons
-- started on or before the reference date (one row; none before the first season).
-- is_open: the reference date is within the season (the cohort calls people only then; an
-- uptake measure after 31 March reports the season just ended).
select
    season_id,
    season_start_date,
    adult_start_date,
    season_end_date,
    age_reference_date,
    child_age_reference_date,
    {{ reference_date() }} <= season_end_date as is_open,
    {{ reference_date() }} >= adult_start_date as adult_campaign_started
from {{ ref('flu_seasons') }}
where season_start_date <= {{ reference_date() }}
qualify row_number() over (order by season_start_date desc) = 1
