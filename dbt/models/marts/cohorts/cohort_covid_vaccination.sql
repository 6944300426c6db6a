-- Protect NoW: COVID-19 vaccination, as of the reference date.
--
-- The current campaign is the row of seed covid_campaigns whose start_date <= reference
-- date <= end_date (none: the cohort is empty). Eligible groups from autumn 2025 (JCVI
-- advice for autumn 2025 and spring 2026; PRIMIS COVID-19 clusters; parameters in seed
-- covid_campaigns and project_parameters, project covid_vaccination):
--   aged_min_age_and_over   aged min_age (75) or over on the campaign's age_reference_date;
--   care_home_resident      older adult care home resident: a care home code (CAREHOME_COD,
--                           LONGRES_COD) in the last 36 months and aged care_home_min_age
--                           (65) or over;
--   immunosuppressed        aged 6 months or over with an immunosuppression diagnosis or
--                           administrative code (IMMDX_COD, IMMADM_COD) at any time, or
--                           immunosuppressive medication (IMMRX_COD) or chemo/radiotherapy
--                           (DXT_CHEMO_COD) in the last 6 months.
-- Exclusions:
--   vaccinated in the campaign  a COVID-19 vaccination code (COVADM1-5_COD,
--                               OS_COVID_VACC_GIVEN) on or after the campaign start;
--   declined in the campaign    a decline code (COV1DECL_COD, COV2DECL_COD,
--                               OS_COVID_VACC_DECL1/2) on or after the campaign start;
--   contraindicated             COVCONTRA_COD at any time.
-- clinical_priority: the number of eligible groups met.
with campaign as (
    select * from {{ ref('covid_campaigns') }}
    where start_date <= {{ reference_date() }} and end_date >= {{ reference_date() }}
    qualify row_number() over (order by start_date desc) = 1
),

population as (
    select population.*, campaign.campaign_id, campaign.start_date as campaign_start_date,
           campaign.age_reference_date, campaign.min_age, campaign.care_home_min_age
    from {{ ref('int_cohort_population') }} as population
    cross join campaign
),

care_home_codes as (
    select pseudo_id, max(event_date) as care_home_date
    from ({{ get_observations(['CAREHOME_COD', 'LONGRES_COD']) }})
    where event_date > {{ project_months_before('covid_vaccination', reference_date(), 'care_home_lookback_months') }}
    group by pseudo_id
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
        'Aged ' || min_age || ' or over by ' || age_reference_date || ' (' || campaign_id || ')' as rule_description,
        cast(null as date) as evidence_date,
        cast({{ age_at('birth_month', 'age_reference_date') }} as varchar) as evidence_value
    from population
    where {{ age_at('birth_month', 'age_reference_date') }} >= min_age
),

rule_care_home_resident as (
    select
        population.pseudo_id,
        'care_home_resident' as rule_id,
        'Older adult care home resident (care home code, aged ' || population.care_home_min_age || '+)' as rule_description,
        care_home_codes.care_home_date as evidence_date,
        cast(population.age as varchar) as evidence_value
    from population
    inner join care_home_codes on care_home_codes.pseudo_id = population.pseudo_id
    where population.age >= population.care_home_min_age
),

rule_immunosuppressed as (
    select
        population.pseudo_id,
        'immunosuppressed' as rule_id,
        'Immunosuppressed, aged 6 months or over (diagnosis, or treatment in the last 6 months)' as rule_description,
        max(immunosuppression.event_date) as evidence_date,
        string_agg(distinct immunosuppression.cluster_id, ',') as evidence_value
    from population
    inner join immunosuppression on immunosuppression.pseudo_id = population.pseudo_id
    -- reached 6 months of age on the reference date
    where population.birth_month + to_months({{ project_param('covid_vaccination', 'immunosuppressed_min_age_months', 'integer') }}) <= {{ reference_date() }}
    group by population.pseudo_id
),

groups as (
    select * from rule_aged_min_age_and_over
    union all select * from rule_care_home_resident
    union all select * from rule_immunosuppressed
),

vaccinated_in_campaign as (
    select vaccinations.pseudo_id
    from ({{ get_observations(['COVADM1_COD', 'COVADM2_COD', 'COVADM3_COD', 'COVADM4_COD', 'COVADM5_COD', 'OS_COVID_VACC_GIVEN']) }}) as vaccinations
    inner join population on population.pseudo_id = vaccinations.pseudo_id
    where vaccinations.event_date >= population.campaign_start_date
),

declined_in_campaign as (
    select declines.pseudo_id
    from ({{ get_observations(['COV1DECL_COD', 'COV2DECL_COD', 'OS_COVID_VACC_DECL1', 'OS_COVID_VACC_DECL2']) }}) as declines
    inner join population on population.pseudo_id = declines.pseudo_id
    where declines.event_date >= population.campaign_start_date
),

contraindicated as (
    select pseudo_id from ({{ get_observations(['COVCONTRA_COD']) }})
),

evidence as (
    select groups.*
    from groups
    where groups.pseudo_id not in (select pseudo_id from vaccinated_in_campaign)
      and groups.pseudo_id not in (select pseudo_id from declined_in_campaign)
      and groups.pseudo_id not in (select pseudo_id from contraindicated)
)

select
    evidence.pseudo_id,
    population.practice_code,
    case
        when bool_or(evidence.rule_id = 'care_home_resident') then 'care_home_resident'
        when bool_or(evidence.rule_id = 'immunosuppressed') then 'immunosuppressed'
        else 'aged_' || any_value(population.min_age) || '_and_over'
    end as eligibility_group,
    cast(count(*) as double) as clinical_priority,
    {{ cohort_reason_columns() }},
    any_value(population.campaign_id) as campaign_id,
    {{ reference_date() }} as reference_date
from evidence
inner join population on population.pseudo_id = evidence.pseudo_id
group by evidence.pseudo_id, population.practice_code
