-- Dated evidence of each electronic-Frailty-Index-style deficit per person (Clegg A et al.
-- "Development and validation of an electronic frailty index using routine primary care
-- records", Age Ageing 2016;45:353-60). Of the eFI's 36 deficits, those observable in
-- these extracts are listed in seed efi_deficits with their evidence: a condition
-- diagnosis code, a coded observation (falls, care home), a community falls service
-- contact, or an adult social care service. One row per person, deficit and evidence.
with deficits as (
    select * from {{ ref('efi_deficits') }}
),

condition_evidence as (
    select
        events.pseudo_id,
        deficits.deficit,
        min(events.event_date) as evidence_date
    from {{ ref('int_condition_events_all') }} as events
    inner join deficits
        on deficits.evidence_kind = 'condition' and deficits.evidence = events.condition
    where events.role = 'diagnosis'
    group by events.pseudo_id, deficits.deficit
),

observation_evidence as (
    select
        observations.pseudo_id,
        deficits.deficit,
        min(observations.event_date) as evidence_date
    from {{ ref('int_observations_all') }} as observations
    inner join deficits
        on deficits.evidence_kind = 'observation' and deficits.evidence = observations.measure
    group by observations.pseudo_id, deficits.deficit
),

community_evidence as (
    select
        contacts.pseudo_id,
        deficits.deficit,
        min(contacts.contact_date) as evidence_date
    from {{ ref('stg_community__contacts') }} as contacts
    inner join deficits
        on deficits.evidence_kind = 'community_service' and deficits.evidence = contacts.service
    where contacts.pseudo_id is not null and contacts.contact_date <= {{ reference_date() }}
    group by contacts.pseudo_id, deficits.deficit
),

social_care_evidence as (
    select
        clients.pseudo_id,
        deficits.deficit,
        min(clients.service_start_date) as evidence_date
    from {{ ref('stg_social_care__clients') }} as clients
    inner join deficits on deficits.evidence_kind = 'social_care'
    where clients.pseudo_id is not null and clients.service_start_date <= {{ reference_date() }}
    group by clients.pseudo_id, deficits.deficit
),

evidence as (
    select * from condition_evidence
    union all select * from observation_evidence
    union all select * from community_evidence
    union all select * from social_care_evidence
)

select pseudo_id, deficit, min(evidence_date) as first_evidence_date
from evidence
group by pseudo_id, deficit
