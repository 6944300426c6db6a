-- How to contact each person, from coded communication needs in the GP record (seed
-- outreach_contact_codes), as of the reference date: interpreter needed when the latest
-- interpreter record says needed (a later "not needed" cancels it); main spoken language
-- English recorded. One row per person with any such record; read by the outreach plan
-- (dagster_project/outreach/plan.py) to choose the channel. Pseudonymised.
with records as (
    select events.pseudo_id, codes.need, codes.effect, events.event_date
    from {{ ref('stg_gp__events') }} as events
    inner join {{ ref('outreach_contact_codes') }} as codes on codes.code = events.snomed_code
    where events.pseudo_id is not null
      and events.event_date <= {{ reference_date() }}
),

latest as (
    select pseudo_id, need, arg_max(effect, event_date) as effect, max(event_date) as recorded_on
    from records
    group by pseudo_id, need
)

select
    pseudo_id,
    coalesce(bool_or(need = 'interpreter' and effect = 'needed'), false) as interpreter_needed,
    coalesce(bool_or(need = 'main_language_english'), false) as main_language_english,
    max(recorded_on) as latest_recorded_on,
    {{ reference_date() }} as reference_date
from latest
group by pseudo_id
