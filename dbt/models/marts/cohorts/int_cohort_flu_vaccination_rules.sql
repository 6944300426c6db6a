{{ config(schema='intermediate') }}
-- Every flu vaccination group and exclusion met, per person, as of the reference date
-- (rule_kind inclusion / exclusion). cohort_flu_vaccination composes them; mart
-- cohort_rule_coverage counts them.
--
-- Sources (checked 2026-11): the annual flu letter 2026/27 and Green Book chapter 19 as
-- summarised in CLINICAL_RULES.md (groups, campaign start per group); the PRIMIS
-- flu/COVID-19 eligibility specification for the clinical risk groups, as implemented by
-- OpenSAFELY (opensafely/reusable-variables analysis/PRIMIS/variables_function.py @
-- 27bd11f, the same repository as the PRIMIS v2.5 code lists in seed codelist_codes).
-- Season: int_flu_season, only while it is open (after 31 March: nobody).
-- The groups recorded in the GP record (clinical risk groups, pregnancy, carers, household
-- contacts) are defined once in int_flu_eligible_groups (shared with the uptake
-- denominators; each group's rule is documented there); vaccinated / declined this season
-- once in int_flu_vaccinations_season.
--
-- Groups (one inclusion row each; a group counts only once its campaign has started):
--   aged_65_and_over      65+ on the season's age_reference_date (31 March), exact age;
--                         from adult_start_date (1 October);
--   clinical_risk_group:<g>  int_flu_eligible_groups (6 months to 64, PRIMIS rules):
--                         children under 18 from season_start_date (1 September), adults
--                         from 1 October;
--   pregnant              a pregnancy code in the last 9 months; from 1 September;
--   care_home_resident    the latest residence code is a long-stay care home code
--                         (int_residence_latest); from 1 October;
--   carer                 latest carer code not followed by 'no longer a carer'; 1 October;
--   household_contact_of_immunosuppressed  HHLD_IMDEF_COD (PRIMIS); 1 October;
--   child_aged_2_or_3     2 or 3 on 31 August; from 1 September.
-- Exclusions (this season, int_flu_vaccinations_season):
--   vaccinated            FLUVAX_COD code or FLURX_COD vaccine issue;
--   declined              FLUDEC_COD (315640000 Influenza vaccination declined).
-- Switched off (seed project_rules): contraindicated, no_consent - no public SNOMED CT
-- concept list was found for them (FLUCONTRA/no-consent clusters are not open).
with season as (
    select * from {{ ref('int_flu_season') }}
    where is_open
),

ages as (
    select * from {{ ref('int_person_ages') }}
),

population as (
    select
        population.pseudo_id,
        population.age_months,
        season.season_id,
        season.season_start_date,
        season.adult_start_date,
        season.age_reference_date,
        season.child_age_reference_date,
        age_march.age_years as age_on_age_reference_date,
        age_august.age_years as age_on_child_reference_date,
        season.adult_campaign_started
    from {{ ref('int_cohort_population') }} as population
    cross join season
    left join ages as age_march
        on age_march.pseudo_id = population.pseudo_id and age_march.on_date = season.age_reference_date
    left join ages as age_august
        on age_august.pseudo_id = population.pseudo_id and age_august.on_date = season.child_age_reference_date
),

groups as (
    select groups.*
    from {{ ref('int_flu_eligible_groups') }} as groups
    inner join population on population.pseudo_id = groups.pseudo_id
),

this_season as (
    select vaccinations.*
    from {{ ref('int_flu_vaccinations_season') }} as vaccinations
    inner join season on season.season_id = vaccinations.season_id
),

rule_aged_65_and_over as (
    select
        pseudo_id,
        'aged_65_and_over' as rule_id,
        'inclusion' as rule_kind,
        'Aged ' || {{ project_param('flu_vaccination', 'older_min_age', 'integer') }}
            || ' or over by ' || age_reference_date || ' (flu season ' || season_id || ')' as rule_description,
        cast(null as date) as evidence_date,
        cast(age_on_age_reference_date as varchar) as evidence_value
    from population
    where age_on_age_reference_date >= {{ project_param('flu_vaccination', 'older_min_age', 'integer') }}
      and adult_campaign_started
),

rule_clinical_risk_group as (
    select
        population.pseudo_id,
        'clinical_risk_group:' || groups.group_id as rule_id,
        'inclusion' as rule_kind,
        'Clinical risk group (' || replace(groups.group_id, '_', ' ') || '), aged 6 months to 64' as rule_description,
        groups.evidence_date,
        groups.evidence_value
    from population
    inner join groups on groups.pseudo_id = population.pseudo_id and groups.is_clinical_risk_group
    -- at-risk children from 1 September, at-risk adults from 1 October
    where population.adult_campaign_started
       or population.age_months < 12 * ({{ project_param('flu_vaccination', 'early_group_max_age', 'integer') }} + 1)
),

rule_pregnant as (
    select
        groups.pseudo_id,
        'pregnant' as rule_id,
        'inclusion' as rule_kind,
        'Pregnant (pregnancy code in the last ' || {{ project_param('flu_vaccination', 'pregnancy_lookback_months', 'integer') }} || ' months)' as rule_description,
        groups.evidence_date,
        cast(null as varchar) as evidence_value
    from groups
    where groups.group_id = 'pregnant'
),

rule_care_home_resident as (
    select
        residence.pseudo_id,
        'care_home_resident' as rule_id,
        'inclusion' as rule_kind,
        'Long-stay care home resident (latest residence code is a care home)' as rule_description,
        residence.residence_code_date as evidence_date,
        residence.residence_code as evidence_value
    from {{ ref('int_residence_latest') }} as residence
    inner join population on population.pseudo_id = residence.pseudo_id
    where residence.lives_in_care_home and population.adult_campaign_started
),

rule_carer as (
    select
        population.pseudo_id,
        'carer' as rule_id,
        'inclusion' as rule_kind,
        'Unpaid carer (carer code not followed by a no-longer-a-carer code)' as rule_description,
        groups.evidence_date,
        cast(null as varchar) as evidence_value
    from groups
    inner join population on population.pseudo_id = groups.pseudo_id
    where groups.group_id = 'carer' and population.adult_campaign_started
),

rule_household_contact as (
    select
        population.pseudo_id,
        'household_contact_of_immunosuppressed' as rule_id,
        'inclusion' as rule_kind,
        'Household contact of an immunocompromised person' as rule_description,
        groups.evidence_date,
        cast(null as varchar) as evidence_value
    from groups
    inner join population on population.pseudo_id = groups.pseudo_id
    where groups.group_id = 'household_contact_of_immunosuppressed' and population.adult_campaign_started
),

rule_child_aged_2_or_3 as (
    select
        pseudo_id,
        'child_aged_2_or_3' as rule_id,
        'inclusion' as rule_kind,
        'Child aged 2 or 3 on ' || child_age_reference_date as rule_description,
        cast(null as date) as evidence_date,
        cast(age_on_child_reference_date as varchar) as evidence_value
    from population
    where age_on_child_reference_date between {{ project_param('flu_vaccination', 'child_min_age', 'integer') }}
                                          and {{ project_param('flu_vaccination', 'child_max_age', 'integer') }}
),

excluded_vaccinated as (
    select this_season.pseudo_id, 'vaccinated_this_season' as rule_id, 'exclusion' as rule_kind,
           'Vaccinated against flu this season' as rule_description,
           this_season.vaccinated_date as evidence_date, cast(null as varchar) as evidence_value
    from this_season
    inner join population on population.pseudo_id = this_season.pseudo_id
    where this_season.vaccinated_date is not null
),

excluded_declined as (
    select this_season.pseudo_id, 'declined_this_season' as rule_id, 'exclusion' as rule_kind,
           'Declined flu vaccination this season' as rule_description,
           this_season.declined_date as evidence_date, cast(null as varchar) as evidence_value
    from this_season
    inner join population on population.pseudo_id = this_season.pseudo_id
    where this_season.declined_date is not null
)

select * from rule_aged_65_and_over
union all select * from rule_clinical_risk_group
union all select * from rule_pregnant
union all select * from rule_care_home_resident
union all select * from rule_carer
union all select * from rule_household_contact
union all select * from rule_child_aged_2_or_3
union all select * from excluded_vaccinated
union all select * from excluded_declined
