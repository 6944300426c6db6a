-- What each project asks people to do, as dated events per person (as of the reference
-- date): a vaccination, screening test or DPP referral coded in the GP record (seed
-- project_outcome_clusters), or for Talking Therapies a referral in the Talking Therapies
-- dataset. One row per project, person and event date. The release report compares, among
-- the people of a project's previous release, how many have such an event after the release
-- among those the outreach team contacted and those it had not yet contacted
-- (dagster_project/outreach/uptake.py); the rule for "did it" is the same for both groups.
with coded as (
    select distinct clusters.project, events.pseudo_id, events.event_date
    from {{ ref('project_outcome_clusters') }} as clusters
    inner join ({{ get_observations("select distinct cluster_id from " ~ ref('project_outcome_clusters')) }}) as events
        on events.cluster_id = clusters.cluster_id
),

talking_therapies as (
    select distinct 'talking_therapies' as project, pseudo_id, referral_date as event_date
    from {{ ref('stg_talking_therapies__referrals') }}
    where referral_date <= {{ reference_date() }}
)

select project, pseudo_id, event_date, {{ reference_date() }} as reference_date from coded
union all
select project, pseudo_id, event_date, {{ reference_date() }} as reference_date from talking_therapies
