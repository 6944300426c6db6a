-- Did outreach work? Per project and IMD quintile, as of the reference date: people
-- contacted, their latest outcome (accepted, declined, not reached), and how many later did
-- what the project asked - a vaccination, screening test or DPP referral coded after their
-- first contact (seed project_outcome_clusters), or for Talking Therapies a referral in the
-- Talking Therapies dataset after it. IMD quintile from dim_person (people no longer
-- registered - died, moved away - fall under 'unknown').
with outcomes as (
    select * from {{ ref('stg_outreach__outcomes') }}
),

contacted as (
    select
        project,
        pseudo_id,
        min(contact_date) as first_contact_date,
        arg_max(outcome, contact_date) as latest_outcome,
        bool_or(outcome in ('accepted', 'booked', 'referred')) as has_accepted,
        bool_or(outcome = 'declined') as has_declined
    from outcomes
    group by project, pseudo_id
),

coded_after_contact as (
    select distinct contacted.project, contacted.pseudo_id
    from contacted
    inner join {{ ref('project_outcome_clusters') }} as clusters on clusters.project = contacted.project
    inner join ({{ get_observations("select distinct cluster_id from " ~ ref('project_outcome_clusters')) }}) as events
        on events.cluster_id = clusters.cluster_id and events.pseudo_id = contacted.pseudo_id
    where events.event_date >= contacted.first_contact_date
),

referred_to_talking_therapies_after_contact as (
    select distinct contacted.project, contacted.pseudo_id
    from contacted
    inner join {{ ref('stg_talking_therapies__referrals') }} as referrals
        on referrals.pseudo_id = contacted.pseudo_id
    where contacted.project = 'talking_therapies'
      and referrals.referral_date >= contacted.first_contact_date
      and referrals.referral_date <= {{ reference_date() }}
),

done_after_contact as (
    select * from coded_after_contact
    union select * from referred_to_talking_therapies_after_contact
),

people as (
    select
        contacted.*,
        coalesce(cast(person.imd_quintile as varchar), 'unknown') as imd_quintile,
        done_after_contact.pseudo_id is not null as did_after_contact
    from contacted
    left join {{ ref('dim_person') }} as person on person.pseudo_id = contacted.pseudo_id
    left join done_after_contact
        on done_after_contact.project = contacted.project and done_after_contact.pseudo_id = contacted.pseudo_id
)

select
    project,
    imd_quintile,
    count(*) as contacted,
    count(*) filter (where has_accepted) as accepted,
    count(*) filter (where has_declined) as declined,
    count(*) filter (where latest_outcome in ('no_answer', 'not_reached', 'wrong_number', 'incorrect_details')) as not_reached,
    count(*) filter (where latest_outcome in ('deceased', 'moved_away')) as deceased_or_moved_away,
    count(*) filter (where did_after_contact) as later_vaccinated_screened_or_referred,
    round(count(*) filter (where has_accepted) / count(*), 4) as acceptance_rate,
    round(count(*) filter (where did_after_contact) / count(*), 4) as uptake_rate,
    {{ reference_date() }} as reference_date
from people
group by project, imd_quintile
