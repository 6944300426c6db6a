-- How to contact each person, from coded communication needs in the GP record (seed
-- outreach_contact_codes), as of the reference date. For each need the latest record wins:
-- interpreter needed (a later "not needed" cancels it); main spoken language (the latest
-- recorded: English, Polish, Romanian, ...); Accessible Information Standard (SCCI1605) needs - a required contact method
-- (letter / telephone / sms: the latest of the three), a British Sign Language interpreter,
-- written information in large print or Easyread (the latest format). One row per person
-- with any such record; read by the outreach plan (dagster_project/outreach/plan.py) to
-- choose the channel and the letter format. Pseudonymised.
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
    max(effect) filter (where need = 'main_language') as main_language,
    coalesce(bool_or(need = 'main_language' and effect = 'English'), false) as main_language_english,
    max(effect) filter (where need = 'contact_method') as required_contact_method,
    coalesce(bool_or(need = 'bsl_interpreter' and effect = 'needed'), false) as bsl_interpreter_needed,
    max(effect) filter (where need = 'information_format') as information_format,
    max(recorded_on) as latest_recorded_on,
    {{ reference_date() }} as reference_date
from latest
group by pseudo_id
