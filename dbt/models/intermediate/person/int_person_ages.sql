-- Exact ages (completed years and months, to the day) of every person at every date a
-- cohort rule judges age on, without a date of birth in any table: the reference date, the
-- date of the next cervical screening invitation (reference date + invite lead), each flu
-- season's age reference dates (31 March for 65+, 31 August for children) and each COVID-19
-- campaign's age reference date. National rules count ages to the day: a person whose
-- birthday falls after the date has not reached that age yet (CLINICAL_RULES "Ages").
-- Rules join on (pseudo_id, on_date); a date not listed here has no row (add it here).
with birth_dates as (
    select * from {{ ref('int_person_birth_dates') }}
),

rule_dates as (
    select {{ reference_date() }} as on_date
    union
    select cast({{ reference_date() }} + to_months({{ project_param('cervical_screening', 'invite_lead_months', 'integer') }}) as date)
    union
    select age_reference_date from {{ ref('flu_seasons') }}
    union
    select child_age_reference_date from {{ ref('flu_seasons') }}
    union
    select age_reference_date from {{ ref('covid_campaigns') }}
)

select
    birth_dates.pseudo_id,
    rule_dates.on_date,
    {{ age_at('birth_dates.date_of_birth', 'rule_dates.on_date') }} as age_years,
    {{ age_in_months('birth_dates.date_of_birth', 'rule_dates.on_date') }} as age_months
from birth_dates
cross join rule_dates
where birth_dates.date_of_birth <= rule_dates.on_date
