-- Rule coverage of the Protect NoW cohorts, per run: for every rule of the registry (seed
-- project_rules) how many people it included, excluded or described (people), and how many
-- of those are in the published cohort (in_cohort). A rule that is on and fires for nobody
-- in the demo ICS is a broken rule or a gap in the synthetic data (a test fails on it); a
-- rule that is off is listed with its reason, so every release can say what it does not do.
with hits as (
    {% for project in ['cervical_screening', 'flu_vaccination', 'covid_vaccination', 'dpp', 'talking_therapies',
                    'bp_checks', 'falls_prevention', 'depression_obesity'] %}
    select '{{ project }}' as project, rules.rule_id, rules.pseudo_id,
           rules.pseudo_id in (select pseudo_id from {{ ref('cohort_' ~ project) }}) as in_cohort
    from {{ ref('int_cohort_' ~ project ~ '_rules') }} as rules
    union all
    {% endfor %}
    -- the opt-outs as int_registered_people defines them (dim_person leaves national
    -- opt-outs out under the indirect-care policy); a person with both counts under both
    select 'all_projects', 'national_data_opt_out', pseudo_id, false
    from {{ ref('int_registered_people') }}
    where has_national_data_opt_out
    union all
    select 'all_projects', 'type1_dissent', pseudo_id, false
    from {{ ref('int_registered_people') }}
    where has_type1_opt_out
),

counts as (
    select project, rule_id, count(distinct pseudo_id) as people,
           count(distinct pseudo_id) filter (where in_cohort) as in_cohort
    from hits
    group by project, rule_id
)

select
    registry.project,
    registry.rule_id,
    registry.rule_kind,
    registry.status,
    coalesce(counts.people, 0) as people,
    coalesce(counts.in_cohort, 0) as in_cohort,
    registry.source,
    registry.source_date,
    registry.reason_off,
    {{ reference_date() }} as reference_date
from {{ ref('project_rules') }} as registry
left join counts on counts.project = registry.project and counts.rule_id = registry.rule_id
union all
-- a rule the models write that the registry does not know is listed too (status unknown)
select counts.project, counts.rule_id, 'unregistered', 'unregistered', counts.people, counts.in_cohort,
       null, null, null, {{ reference_date() }}
from counts
where not exists (select 1 from {{ ref('project_rules') }} as registry
                  where registry.project = counts.project and registry.rule_id = counts.rule_id)
