-- The eligible population of each project (the right denominator for coverage and gap), as
-- of the reference date: everyone the project's rule applies to, whether or not they still
-- need the action - the cohort (who still needs it) plus the people who have already done
-- it. For the five national projects this is read from the cohort's own rules model (one
-- definition per concept: the same groups, ages to the day and code lists as the cohort),
-- composed by the cohort's own composition (cohort_composed(project, 'population'),
-- macros/cohort_composition.sql) but keeping the exclusions that mean "done" or "said no"
-- (a decliner is still in the denominator, as national uptake counts them):
--   cervical_screening  has a cervix and aged 24.5-64 to the day (int_cohort_cervical_
--                       screening_rules); out: ceased from screening, cervix removed
--                       (NHSCSP coverage leaves ceased people out); screened and declined stay;
--   flu_vaccination     any flu group whose campaign has started (65+ on 31 March, clinical
--                       risk groups by the PRIMIS rules, pregnant, care home, carers,
--                       household contacts, children 2-3); vaccinated and declined stay;
--   covid_vaccination   any group of the current campaign; out: contraindicated;
--                       vaccinated and declined stay;
--   talking_therapies   adults on the depression or anxiety register; out: in secondary
--                       mental health care; those already in contact with the service stay;
--   dpp                 adults with a non-diabetic hyperglycaemia blood test or a history of
--                       gestational diabetes; out: diabetic, pregnant; already referred and
--                       recently offered stay;
-- and for the pilots, whose rules select people by need rather than by a population:
--   bp_checks           adults (everyone from min_age should have a recent reading);
--   falls_prevention    aged min_age or over;
--   depression_obesity  adults on the depression register.
-- Pseudonymised; built on int_cohort_population (opt-outs already excluded).
with population as (
    select * from {{ ref('int_cohort_population') }}
),

registers as (
    select pseudo_id, condition from {{ ref('fct_conditions') }}
),

base as (
    {%- for project in cohort_compositions() %}
    select '{{ project }}' as project, pseudo_id
    from {{ ref('int_cohort_' ~ project ~ '_rules') }}
    group by pseudo_id
    having {{ cohort_composed(project, 'population') }}
    union all
    {%- endfor %}

    select 'bp_checks', pseudo_id from population
    where age >= {{ project_param('bp_checks', 'min_age', 'integer') }}

    union all
    select 'falls_prevention', pseudo_id from population
    where age >= {{ project_param('falls_prevention', 'min_age', 'integer') }}

    union all
    select distinct 'depression_obesity', registers.pseudo_id from registers
    inner join population on population.pseudo_id = registers.pseudo_id
    where registers.condition = 'depression'
      and population.age >= {{ project_param('depression_obesity', 'min_age', 'integer') }}
)

-- only people still in the population (opt-outs, deaths and moves already applied)
select base.project, base.pseudo_id, {{ reference_date() }} as reference_date
from base
inner join population on population.pseudo_id = base.pseudo_id
