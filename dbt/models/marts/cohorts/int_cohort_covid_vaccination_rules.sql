{{ config(schema='intermediate') }}
-- Every COVID-19 vaccination group and exclusion met, per person, as of the reference date
-- (rule_kind inclusion / exclusion). cohort_covid_vaccination composes them.
--
-- Sources: JCVI advice on COVID-19 vaccination in autumn 2025 and spring 2026 (accepted by
-- government; CLINICAL_RULES.md): adults 75+ (age at the campaign's end, e.g. 75 by
-- 31 January 2026 for autumn 2025), residents in care homes for older adults,
-- immunosuppressed people aged 6 months and over; PRIMIS COVID-19 clusters (v2.5).
-- Campaign: int_covid_campaign while it is open (the one definition of "this campaign"),
-- with its status - confirmed (published advice, named in `source`) or assumed (no advice
-- yet: the release says so and its gate warns).
-- Groups:
--   aged_<min_age>_and_over  exact age on the campaign's age_reference_date >= min_age;
--   care_home_resident       the latest residence code is a long-stay care home code
--                            (int_residence_latest, PRIMIS LONGRES rule) and aged
--                            care_home_min_age (65) or over (older adult care homes);
--   immunosuppressed         6 months or over with an immunosuppression diagnosis or admin
--                            code (IMMDX_COD, IMMADM_COD) at any time, or immunosuppressant
--                            medication or chemo/radiotherapy in the last 6 months.
-- Exclusions: vaccinated in the campaign (COVADM1-5_COD, OS_COVID_VACC_GIVEN on or after
-- its start), declined in the campaign (COV1DECL_COD, COV2DECL_COD, OS_COVID_VACC_DECL1/2) -
-- both from int_covid_vaccinations_campaign (shared with the uptake numerator) -;
-- contraindicated (COVCONTRA_COD at any time).
with campaign as (
    select * from {{ ref('int_covid_campaign') }}
    where is_open
),

population as (
    select population.pseudo_id, population.age, population.age_months,
           campaign.campaign_id, campaign.start_date as campaign_start_date,
           campaign.age_reference_date, campaign.min_age, campaign.care_home_min_age,
           ages.age_years as age_on_age_reference_date
    from {{ ref('int_cohort_population') }} as population
    cross join campaign
    left join {{ ref('int_person_ages') }} as ages
        on ages.pseudo_id = population.pseudo_id and ages.on_date = campaign.age_reference_date
),

immunosuppression as (
    select pseudo_id, event_date, cluster_id
    from ({{ get_observations(['IMMDX_COD', 'IMMADM_COD']) }})
    union all
    select pseudo_id, event_date, cluster_id
    from ({{ get_observations(['DXT_CHEMO_COD']) }})
    where event_date > {{ project_months_before('covid_vaccination', reference_date(), 'immunosuppression_treatment_lookback_months') }}
    union all
    select medications.pseudo_id, medications.issue_date, codes.cluster_id
    from {{ ref('stg_gp__medications') }} as medications
    inner join {{ ref('int_codelist_codes') }} as codes
        on codes.code = medications.dmd_code and codes.cluster_id = 'IMMRX_COD'
    where medications.issue_date <= {{ reference_date() }}
      and medications.issue_date > {{ project_months_before('covid_vaccination', reference_date(), 'immunosuppression_treatment_lookback_months') }}
),

rule_aged_min_age_and_over as (
    select
        pseudo_id,
        'aged_' || min_age || '_and_over' as rule_id,
        'inclusion' as rule_kind,
        'Aged ' || min_age || ' or over by ' || age_reference_date || ' (' || campaign_id || ')' as rule_description,
        cast(null as date) as evidence_date,
        cast(age_on_age_reference_date as varchar) as evidence_value
    from population
    where age_on_age_reference_date >= min_age
),

rule_care_home_resident as (
    select
        population.pseudo_id,
        'care_home_resident' as rule_id,
        'inclusion' as rule_kind,
        'Older adult care home resident (latest residence code a care home, aged ' || population.care_home_min_age || '+)' as rule_description,
        residence.residence_code_date as evidence_date,
        cast(population.age as varchar) as evidence_value
    from population
    inner join {{ ref('int_residence_latest') }} as residence on residence.pseudo_id = population.pseudo_id
    where residence.lives_in_care_home and population.age >= population.care_home_min_age
),

rule_immunosuppressed as (
    select
        population.pseudo_id,
        'immunosuppressed' as rule_id,
        'inclusion' as rule_kind,
        'Immunosuppressed, aged 6 months or over (diagnosis, or treatment in the last 6 months)' as rule_description,
        max(immunosuppression.event_date) as evidence_date,
        string_agg(distinct immunosuppression.cluster_id, ',' order by immunosuppression.cluster_id) as evidence_value
    from population
    inner join immunosuppression on immunosuppression.pseudo_id = population.pseudo_id
    where population.age_months >= {{ project_param('covid_vaccination', 'immunosuppressed_min_age_months', 'integer') }}
    group by population.pseudo_id
),

this_campaign as (
    select vaccinations.*
    from {{ ref('int_covid_vaccinations_campaign') }} as vaccinations
    inner join population on population.pseudo_id = vaccinations.pseudo_id
        and population.campaign_id = vaccinations.campaign_id
),

excluded_vaccinated as (
    select pseudo_id, 'vaccinated_in_campaign' as rule_id, 'exclusion' as rule_kind,
           'Vaccinated in this campaign' as rule_description,
           vaccinated_date as evidence_date, cast(null as varchar) as evidence_value
    from this_campaign
    where vaccinated_date is not null
),

excluded_declined as (
    select pseudo_id, 'declined_in_campaign' as rule_id, 'exclusion' as rule_kind,
           'Declined in this campaign' as rule_description,
           declined_date as evidence_date, cast(null as varchar) as evidence_value
    from this_campaign
    where declined_date is not null
),

excluded_contraindicated as (
    select contra.pseudo_id, 'contraindicated' as rule_id, 'exclusion' as rule_kind,
           'COVID-19 vaccination contraindicated' as rule_description,
           max(contra.event_date) as evidence_date, cast(null as varchar) as evidence_value
    from ({{ get_observations(['COVCONTRA_COD']) }}) as contra
    inner join population on population.pseudo_id = contra.pseudo_id
    group by contra.pseudo_id
)

select * from rule_aged_min_age_and_over
union all select * from rule_care_home_resident
union all select * from rule_immunosuppressed
union all select * from excluded_vaccinated
union all select * from excluded_declined
union all select * from excluded_contraindicated
