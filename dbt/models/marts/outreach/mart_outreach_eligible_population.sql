-- The eligible population of each project (the right denominator for coverage and gap), as
-- of the reference date: everyone the project's rule applies to, whether or not they still
-- need the action - the cohort (who still needs it) plus the people of the project's base
-- population who have already done it. Parameters from seed project_parameters and the
-- campaign seeds, as the cohort models read them:
--   cervical_screening  registered female aged min_age-max_age, and anyone in the cohort
--                       (people registered male with a cervix recorded);
--   flu_vaccination     aged older_min_age or over, anyone in the cohort (risk groups,
--                       children, carers, pregnant, care homes), and anyone vaccinated since
--                       the current season started;
--   covid_vaccination   aged the current campaign's min_age or over, anyone in the cohort,
--                       and anyone vaccinated since the campaign started;
--   talking_therapies   adults on the depression or anxiety register (those already in
--                       contact with Talking Therapies included);
--   dpp                 adults on the non-diabetic hyperglycaemia register and not diabetic,
--                       and anyone in the cohort;
--   bp_checks           adults (everyone from min_age should have a recent reading);
--   falls_prevention    aged min_age or over;
--   depression_obesity  adults on the depression register.
-- Pseudonymised; built on int_cohort_population (opt-outs already excluded).
with population as (
    select * from {{ ref('int_cohort_population') }}
),

flu_season as (
    select * from {{ ref('flu_seasons') }}
    where season_start_date <= {{ reference_date() }}
    qualify row_number() over (order by season_start_date desc) = 1
),

covid_campaign as (
    select * from {{ ref('covid_campaigns') }}
    where start_date <= {{ reference_date() }}
    qualify row_number() over (order by start_date desc) = 1
),

vaccinated as (
    select clusters.project, events.pseudo_id, events.event_date
    from {{ ref('project_outcome_clusters') }} as clusters
    inner join ({{ get_observations("select distinct cluster_id from " ~ ref('project_outcome_clusters')) }}) as events
        on events.cluster_id = clusters.cluster_id
    where clusters.project in ('flu_vaccination', 'covid_vaccination')
),

registers as (
    select pseudo_id, condition from {{ ref('fct_conditions') }}
),

base as (
    select 'cervical_screening' as project, pseudo_id from population
    where sex = 'F'
      and age between {{ project_param('cervical_screening', 'min_age', 'integer') }}
                  and {{ project_param('cervical_screening', 'max_age', 'integer') }}
    union select 'cervical_screening', pseudo_id from {{ ref('cohort_cervical_screening') }}

    union select 'flu_vaccination', pseudo_id from population
    where age >= {{ project_param('flu_vaccination', 'older_min_age', 'integer') }}
    union select 'flu_vaccination', pseudo_id from {{ ref('cohort_flu_vaccination') }}
    union select 'flu_vaccination', vaccinated.pseudo_id from vaccinated, flu_season
    where vaccinated.project = 'flu_vaccination' and vaccinated.event_date >= flu_season.season_start_date

    union select 'covid_vaccination', population.pseudo_id from population, covid_campaign
    where population.age >= covid_campaign.min_age
    union select 'covid_vaccination', pseudo_id from {{ ref('cohort_covid_vaccination') }}
    union select 'covid_vaccination', vaccinated.pseudo_id from vaccinated, covid_campaign
    where vaccinated.project = 'covid_vaccination' and vaccinated.event_date >= covid_campaign.start_date

    union select 'talking_therapies', registers.pseudo_id from registers
    inner join population on population.pseudo_id = registers.pseudo_id
    where registers.condition in ('depression', 'anxiety')
      and population.age >= {{ project_param('talking_therapies', 'min_age', 'integer') }}
    union select 'talking_therapies', pseudo_id from {{ ref('cohort_talking_therapies') }}

    union select 'dpp', registers.pseudo_id from registers
    inner join population on population.pseudo_id = registers.pseudo_id
    where registers.condition = 'ndh'
      and population.age >= {{ project_param('dpp', 'min_age', 'integer') }}
      and registers.pseudo_id not in (select pseudo_id from registers where condition = 'diabetes')
    union select 'dpp', pseudo_id from {{ ref('cohort_dpp') }}

    union select 'bp_checks', pseudo_id from population
    where age >= {{ project_param('bp_checks', 'min_age', 'integer') }}

    union select 'falls_prevention', pseudo_id from population
    where age >= {{ project_param('falls_prevention', 'min_age', 'integer') }}

    union select 'depression_obesity', registers.pseudo_id from registers
    inner join population on population.pseudo_id = registers.pseudo_id
    where registers.condition = 'depression'
      and population.age >= {{ project_param('depression_obesity', 'min_age', 'integer') }}
)

-- only people still in the population (a vaccinated person who has since died is not)
select base.project, base.pseudo_id, {{ reference_date() }} as reference_date
from base
inner join population on population.pseudo_id = base.pseudo_id
