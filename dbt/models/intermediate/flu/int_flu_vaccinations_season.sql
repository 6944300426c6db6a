-- Flu vaccination and decline in the season of the reference date (int_flu_season), one row
-- per person with either, defined once for the flu cohort's exclusions and the uptake
-- numerators. Vaccinated: a flu vaccination code (PRIMIS FLUVAX_COD, incl. given elsewhere
-- and intranasal) or a flu vaccine issue (PRIMIS FLURX_COD, dm+d) from the season start to
-- the season end, never after the reference date (the PRIMIS flu uptake rule: a vaccination
-- or a vaccine product issued in the season). Declined: FLUDEC_COD (315640000 Influenza
-- vaccination declined) in the same window. One scan of the events and of the medications.
with season as (
    select * from {{ ref('int_flu_season') }}
),

coded as (
    select events.pseudo_id, events.cluster_id, events.event_date
    from ({{ get_observations(['FLUVAX_COD', 'FLUDEC_COD']) }}) as events
    cross join season
    where events.event_date between season.season_start_date and season.season_end_date
),

issued as (
    select medications.pseudo_id, medications.issue_date
    from {{ ref('stg_gp__medications') }} as medications
    inner join {{ ref('int_codelist_codes') }} as codes
        on codes.code = medications.dmd_code and codes.cluster_id = 'FLURX_COD'
    cross join season
    where medications.issue_date between season.season_start_date and season.season_end_date
      and medications.issue_date <= {{ reference_date() }}
),

dated as (
    select pseudo_id, event_date as vaccinated_date, cast(null as date) as declined_date
    from coded where cluster_id = 'FLUVAX_COD'
    union all
    select pseudo_id, issue_date, null from issued
    union all
    select pseudo_id, null, event_date from coded where cluster_id = 'FLUDEC_COD'
)

select
    dated.pseudo_id,
    any_value(season.season_id) as season_id,
    max(dated.vaccinated_date) as vaccinated_date,
    max(dated.declined_date) as declined_date
from dated
cross join season
group by dated.pseudo_id
