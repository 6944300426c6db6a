-- Outreach outcomes (increment): every extract on or before the reference date, the latest
-- version of each contact (record key project, pseudo_id, contact_date, channel). Rename
-- and cast only; the outreach team returns pseudo ids, so no identifier is carried.
with outcomes as (
    {{ published_increment('outreach', 'outcomes', ['project', 'pseudo_id', 'contact_date', 'channel']) }}
)

select
    cast(project as varchar) as project,
    cast(pseudo_id as varchar) as pseudo_id,
    cast(practice_code as varchar) as practice_code,
    cast(contact_date as date) as contact_date,
    cast(channel as varchar) as channel,
    cast(outcome as varchar) as outcome,
    extract_date
from outcomes
where contact_date <= {{ reference_date() }}
