-- Use of NHS Talking Therapies, community services and adult social care per person, as of
-- the reference date: referrals and contacts in the last 12 months, referrals and
-- social care services open on the reference date.
with referrals as (
    select * from {{ ref('stg_talking_therapies__referrals') }}
    where pseudo_id is not null and referral_date <= {{ reference_date() }}
),

contacts as (
    select * from {{ ref('stg_community__contacts') }}
    where pseudo_id is not null and contact_date <= {{ reference_date() }}
),

social_care as (
    select * from {{ ref('stg_social_care__clients') }}
    where pseudo_id is not null and service_start_date <= {{ reference_date() }}
),

talking_therapies as (
    select
        pseudo_id,
        count(*) filter (
            where referral_date > {{ months_before(reference_date(), 'activity_lookback_months') }}
        ) as talking_therapies_referrals_12m,
        bool_or(discharge_date is null or discharge_date > {{ reference_date() }}) as has_open_talking_therapies_referral
    from referrals
    group by pseudo_id
),

community as (
    select
        pseudo_id,
        count(*) as community_contacts_12m,
        count(*) filter (where service = 'falls') as community_falls_contacts_12m
    from contacts
    where contact_date > {{ months_before(reference_date(), 'activity_lookback_months') }}
    group by pseudo_id
),

social_care_open as (
    select
        pseudo_id,
        bool_or(service_end_date is null or service_end_date > {{ reference_date() }}) as has_open_social_care_service,
        arg_max(service_type, service_start_date) as latest_social_care_service
    from social_care
    group by pseudo_id
),

people as (
    select pseudo_id from talking_therapies
    union select pseudo_id from community
    union select pseudo_id from social_care_open
)

select
    people.pseudo_id,
    coalesce(talking_therapies.talking_therapies_referrals_12m, 0) as talking_therapies_referrals_12m,
    coalesce(talking_therapies.has_open_talking_therapies_referral, false) as has_open_talking_therapies_referral,
    coalesce(community.community_contacts_12m, 0) as community_contacts_12m,
    coalesce(community.community_falls_contacts_12m, 0) as community_falls_contacts_12m,
    coalesce(social_care_open.has_open_social_care_service, false) as has_open_social_care_service,
    social_care_open.latest_social_care_service
from people
left join talking_therapies on talking_therapies.pseudo_id = people.pseudo_id
left join community on community.pseudo_id = people.pseudo_id
left join social_care_open on social_care_open.pseudo_id = people.pseudo_id
