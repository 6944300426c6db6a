{{ config(schema='intermediate') }}
-- Every depression-and-obesity rule met, per person, for the rule coverage
-- (cohort_rule_coverage): the inclusions from cohort_depression_obesity's evidence, and the
-- pregnancy exclusion - adults on the depression register with a pregnancy code in the
-- look-back, whom the cohort leaves out whatever their BMI.
select pseudo_id, rule_id from {{ ref('cohort_depression_obesity_evidence') }}
union all
select distinct observations.pseudo_id, 'pregnant' as rule_id
from {{ ref('int_observations_all') }} as observations
inner join {{ ref('fct_conditions') }} as conditions
    on conditions.pseudo_id = observations.pseudo_id and conditions.condition = 'depression'
inner join {{ ref('int_cohort_population') }} as population on population.pseudo_id = observations.pseudo_id
where observations.measure = 'pregnancy'
  and observations.event_date > {{ project_months_before('depression_obesity', reference_date(), 'pregnancy_lookback_months') }}
  and population.age >= {{ project_param('depression_obesity', 'min_age', 'integer') }}
