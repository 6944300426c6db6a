-- Did outreach work? Per project and IMD quintile, as of the reference date: people
-- contacted, their latest outcome (accepted, declined, not reached), and how many later did
-- what the project asked after their first contact (mart_outreach_uptake_events: a
-- vaccination, screening test or DPP referral coded in the GP record, or for Talking
-- Therapies a referral in the Talking Therapies dataset). IMD quintile from dim_person (people no longer
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
        -- asking not to be contacted (at all, by phone, by text) is a refusal too
        bool_or(outcome in ('declined', 'do_not_contact', 'no_calls', 'no_texts')) as has_declined
    from outcomes
    group by project, pseudo_id
),

-- what each project asks, as dated events per person: the one definition
-- (mart_outreach_uptake_events), read here after each person's first contact
done_after_contact as (
    select distinct contacted.project, contacted.pseudo_id
    from contacted
    inner join {{ ref('mart_outreach_uptake_events') }} as events
        on events.project = contacted.project and events.pseudo_id = contacted.pseudo_id
    where events.event_date >= contacted.first_contact_date
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
