-- Protect NoW: seasonal influenza vaccination, as of the reference date.
--
-- The current season is the row of seed flu_seasons whose season_start_date <= reference
-- date <= season_end_date (none: the cohort is empty). Eligible groups (UKHSA annual flu
-- letter / Green Book chapter 19; PRIMIS flu specification clusters; parameters in seed
-- project_parameters, project flu_vaccination):
--   aged_65_and_over     aged 65+ on the season's age_reference_date (31 March);
--   clinical_risk_group  aged 6 months to 64 with a code of a clinical risk group (seed
--                        flu_risk_groups: chronic respiratory, heart, kidney 3-5, liver,
--                        neurological, learning disability, diabetes/Addison's,
--                        immunosuppression, asplenia, BMI 40+); one evidence row per group;
--   pregnant             a pregnancy code (PREG_COD) in the last 9 months;
--   care_home_resident   a care home code (CAREHOME_COD, LONGRES_COD) in the last 36 months;
--   carer                latest carer code (CARER_COD) not followed by 'no longer a carer'
--                        (NOTCARER_COD);
--   child_aged_2_or_3    aged 2 or 3 on the season's child_age_reference_date (31 August).
-- Exclusions:
--   vaccinated this season   a flu vaccination code (FLUVAX_COD) or flu vaccine issue
--                            (FLURX_COD) on or after season_start_date (last season's
--                            vaccination does not count);
--   declined this season     FLUDEC_COD (local placeholder awaiting the official list)
--                            on or after season_start_date.
-- clinical_priority: the number of eligible groups met (more reasons, more risk).
with season as (
    select * from {{ ref('flu_seasons') }}
    where season_start_date <= {{ reference_date() }} and season_end_date >= {{ reference_date() }}
    qualify row_number() over (order by season_start_date desc) = 1
),

population as (
    select population.*, season.season_id, season.season_start_date,
           season.age_reference_date, season.child_age_reference_date
    from {{ ref('int_cohort_population') }} as population
    cross join season
),

rule_aged_65_and_over as (
    select
        pseudo_id,
        'aged_65_and_over' as rule_id,
        'Aged ' || {{ project_param('flu_vaccination', 'older_min_age', 'integer') }}
            || ' or over by ' || age_reference_date || ' (flu season ' || season_id || ')' as rule_description,
        cast(null as date) as evidence_date,
        cast({{ age_at('birth_month', 'age_reference_date') }} as varchar) as evidence_value
    from population
    where {{ age_at('birth_month', 'age_reference_date') }}
          >= {{ project_param('flu_vaccination', 'older_min_age', 'integer') }}
),

risk_codes as (
    select observations.pseudo_id, groups.risk_group, max(observations.event_date) as latest_code_date
    from ({{ get_observations("select cluster_id from " ~ ref('flu_risk_groups')) }}) as observations
    inner join {{ ref('flu_risk_groups') }} as groups on groups.cluster_id = observations.cluster_id
    group by observations.pseudo_id, groups.risk_group
),

rule_clinical_risk_group as (
    select
        population.pseudo_id,
        'clinical_risk_group:' || risk_codes.risk_group as rule_id,
        'Clinical risk group (' || replace(risk_codes.risk_group, '_', ' ') || '), aged 6 months to 64' as rule_description,
        risk_codes.latest_code_date as evidence_date,
        risk_codes.risk_group as evidence_value
    from population
    inner join risk_codes on risk_codes.pseudo_id = population.pseudo_id
    -- reached 6 months of age on the reference date
    where population.birth_month + to_months({{ project_param('flu_vaccination', 'risk_min_age_months', 'integer') }}) <= {{ reference_date() }}
      and {{ age_at('population.birth_month', 'population.age_reference_date') }}
          <= {{ project_param('flu_vaccination', 'risk_max_age', 'integer') }}
),

rule_pregnant as (
    select
        pseudo_id,
        'pregnant' as rule_id,
        'Pregnant (pregnancy code in the last ' || {{ project_param('flu_vaccination', 'pregnancy_lookback_months', 'integer') }} || ' months)' as rule_description,
        max(event_date) as evidence_date,
        cast(null as varchar) as evidence_value
    from ({{ get_observations(['PREG_COD']) }})
    where event_date > {{ project_months_before('flu_vaccination', reference_date(), 'pregnancy_lookback_months') }}
    group by pseudo_id
),

rule_care_home_resident as (
    select
        pseudo_id,
        'care_home_resident' as rule_id,
        'Care home resident (care home code in the last ' || {{ project_param('flu_vaccination', 'care_home_lookback_months', 'integer') }} || ' months)' as rule_description,
        max(event_date) as evidence_date,
        cast(null as varchar) as evidence_value
    from ({{ get_observations(['CAREHOME_COD', 'LONGRES_COD']) }})
    where event_date > {{ project_months_before('flu_vaccination', reference_date(), 'care_home_lookback_months') }}
    group by pseudo_id
),

carer_codes as (
    select
        pseudo_id,
        max(case when cluster_id = 'CARER_COD' then event_date end) as carer_date,
        max(case when cluster_id = 'NOTCARER_COD' then event_date end) as not_carer_date
    from ({{ get_observations(['CARER_COD', 'NOTCARER_COD']) }})
    group by pseudo_id
),

rule_carer as (
    select
        pseudo_id,
        'carer' as rule_id,
        'Unpaid carer (carer code not followed by a no-longer-a-carer code)' as rule_description,
        carer_date as evidence_date,
        cast(null as varchar) as evidence_value
    from carer_codes
    where carer_date is not null and (not_carer_date is null or carer_date > not_carer_date)
),

rule_child_aged_2_or_3 as (
    select
        pseudo_id,
        'child_aged_2_or_3' as rule_id,
        'Child aged 2 or 3 on ' || child_age_reference_date as rule_description,
        cast(null as date) as evidence_date,
        cast({{ age_at('birth_month', 'child_age_reference_date') }} as varchar) as evidence_value
    from population
    where {{ age_at('birth_month', 'child_age_reference_date') }}
          between {{ project_param('flu_vaccination', 'child_min_age', 'integer') }}
              and {{ project_param('flu_vaccination', 'child_max_age', 'integer') }}
),

groups as (
    select * from rule_aged_65_and_over
    union all select * from rule_clinical_risk_group
    union all select * from rule_pregnant
    union all select * from rule_care_home_resident
    union all select * from rule_carer
    union all select * from rule_child_aged_2_or_3
),

vaccinated_this_season as (
    select vaccinations.pseudo_id
    from ({{ get_observations(['FLUVAX_COD']) }}) as vaccinations
    inner join population on population.pseudo_id = vaccinations.pseudo_id
    where vaccinations.event_date >= population.season_start_date
    union
    select medications.pseudo_id
    from {{ ref('stg_gp__medications') }} as medications
    inner join {{ ref('int_codelist_codes') }} as codes
        on codes.code = medications.dmd_code and codes.cluster_id = 'FLURX_COD'
    inner join population on population.pseudo_id = medications.pseudo_id
    where medications.issue_date >= population.season_start_date
      and medications.issue_date <= {{ reference_date() }}
),

declined_this_season as (
    select declines.pseudo_id
    from ({{ get_observations(['FLUDEC_COD']) }}) as declines
    inner join population on population.pseudo_id = declines.pseudo_id
    where declines.event_date >= population.season_start_date
),

evidence as (
    select groups.*
    from groups
    inner join population on population.pseudo_id = groups.pseudo_id
    where groups.pseudo_id not in (select pseudo_id from vaccinated_this_season)
      and groups.pseudo_id not in (select pseudo_id from declined_this_season)
)

select
    evidence.pseudo_id,
    population.practice_code,
    -- the first group met, in the order outreach teams script for
    case
        when bool_or(evidence.rule_id = 'care_home_resident') then 'care_home_resident'
        when bool_or(evidence.rule_id = 'aged_65_and_over') then 'aged_65_and_over'
        when bool_or(evidence.rule_id like 'clinical_risk_group:%') then 'clinical_risk_group'
        when bool_or(evidence.rule_id = 'pregnant') then 'pregnant'
        when bool_or(evidence.rule_id = 'carer') then 'carer'
        else 'child_aged_2_or_3'
    end as eligibility_group,
    cast(count(*) as double) as clinical_priority,
    {{ cohort_reason_columns() }},
    any_value(population.season_id) as season_id,
    {{ reference_date() }} as reference_date
from evidence
inner join population on population.pseudo_id = evidence.pseudo_id
group by evidence.pseudo_id, population.practice_code
