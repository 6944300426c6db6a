-- Protect NoW: COVID-19 vaccination, as of the reference date.
-- The groups, exclusions, their sources and dates are documented beside their SQL in
-- int_cohort_covid_vaccination_rules; they are composed by cohort_composed (macros/
-- cohort_composition.sql, shared with mart_outreach_eligible_population): any inclusion
-- and no exclusion. campaign_status says whether the campaign's eligibility is confirmed by
-- published advice or assumed (seed covid_campaigns); a release under an assumed campaign
-- says so in release.json and its report, and its gate warns.
-- clinical_priority: the number of eligible groups met.
with population as (
    select * from {{ ref('int_cohort_population') }}
),

campaign as (
    select * from {{ ref('int_covid_campaign') }}
    where is_open
),

rules as (
    select * from {{ ref('int_cohort_covid_vaccination_rules') }}
),

eligible as (
    select pseudo_id
    from rules
    group by pseudo_id
    having {{ cohort_composed('covid_vaccination') }}
),

evidence as (
    select rules.*
    from rules
    inner join eligible on eligible.pseudo_id = rules.pseudo_id
    where rules.rule_kind = 'inclusion'
)

select
    evidence.pseudo_id,
    population.practice_code,
    case
        when bool_or(evidence.rule_id = 'care_home_resident') then 'care_home_resident'
        when bool_or(evidence.rule_id = 'immunosuppressed') then 'immunosuppressed'
        else 'aged_' || any_value(campaign.min_age) || '_and_over'
    end as eligibility_group,
    cast(count(*) as double) as clinical_priority,
    {{ cohort_reason_columns() }},
    any_value(campaign.campaign_id) as campaign_id,
    any_value(campaign.status) as campaign_status,
    {{ reference_date() }} as reference_date
from evidence
inner join population on population.pseudo_id = evidence.pseudo_id
cross join campaign
group by evidence.pseudo_id, population.practice_code
