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
-- Season: the flu_seasons row containing the reference date (none: nobody).
--
-- Groups (one inclusion row each; a group counts only once its campaign has started):
--   aged_65_and_over      65+ on the season's age_reference_date (31 March), exact age;
--                         from adult_start_date (1 October);
--   clinical_risk_group:<g>  aged 6 months (on the reference date) to 64 (on 31 March):
--       chronic_respiratory, chronic_heart, chronic_liver, chronic_neurological,
--       learning_disability, asplenia, immunosuppression (diagnosis), Addison's: any code
--       (seed flu_risk_groups, rule any_code);
--       asthma: an asthma admission in 24 months, or an asthma diagnosis with an asthma
--         inhaler issued in 12 months and 2+ oral/systemic steroid issues in 24 months
--         (PRIMIS has_asthma) - any asthma code alone does not qualify;
--       chronic_kidney: any CKD_COD code (incl. nephrotic syndrome, transplant), or the
--         latest CKD stage code is stage 3-5 (PRIMIS has_ckd);
--       diabetes_endocrine: the latest diabetes code not followed by a resolved code, or
--         Addison's, or gestational diabetes while pregnant (PRIMIS has_diabetes);
--       immunosuppression: a diagnosis or an immunosuppressed admin code at any time, or
--         immunosuppressant medication or chemo/radiotherapy in the last 6 months
--         (CLINICAL_RULES);
--       morbid_obesity (18+): latest BMI value >= 40 unless a newer BMI stage code, or a
--         severe-obesity code newer than the latest value (PRIMIS has_severe_obesity);
--       children under 18 from season_start_date (1 September), adults from 1 October;
--   pregnant              a pregnancy code in the last 9 months; from 1 September;
--   care_home_resident    the latest residence code is a long-stay care home code
--                         (int_residence_latest); from 1 October;
--   carer                 latest carer code not followed by 'no longer a carer'; 1 October;
--   household_contact_of_immunosuppressed  HHLD_IMDEF_COD (PRIMIS); 1 October;
--   child_aged_2_or_3     2 or 3 on 31 August; from 1 September.
-- Exclusions (this season: on or after season_start_date):
--   vaccinated            FLUVAX_COD code or FLURX_COD vaccine issue;
--   declined              FLUDEC_COD (315640000 Influenza vaccination declined).
-- Switched off (seed project_rules): contraindicated, no_consent - no public SNOMED CT
-- concept list was found for them (FLUCONTRA/no-consent clusters are not open).
with season as (
    select * from {{ ref('flu_seasons') }}
    where season_start_date <= {{ reference_date() }} and season_end_date >= {{ reference_date() }}
    qualify row_number() over (order by season_start_date desc) = 1
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
        {{ reference_date() }} >= season.adult_start_date as adult_campaign_started
    from {{ ref('int_cohort_population') }} as population
    cross join season
    left join ages as age_march
        on age_march.pseudo_id = population.pseudo_id and age_march.on_date = season.age_reference_date
    left join ages as age_august
        on age_august.pseudo_id = population.pseudo_id and age_august.on_date = season.child_age_reference_date
),

events as (
    select pseudo_id, cluster_id, event_date, value
    from ({{ get_observations("select cluster_id from " ~ ref('flu_risk_groups') ~ " union select 'PREG_COD' union select 'CARER_COD' union select 'NOTCARER_COD' union select 'HHLD_IMDEF_COD'") }})
),

medications as (
    select medications.pseudo_id, codes.cluster_id, medications.issue_date
    from {{ ref('stg_gp__medications') }} as medications
    inner join {{ ref('int_codelist_codes') }} as codes
        on codes.code = medications.dmd_code and codes.cluster_id in ('ASTRXM1_COD', 'ASTRXM2_COD', 'IMMRX_COD')
    where medications.issue_date <= {{ reference_date() }}
),

any_code_groups as (
    select events.pseudo_id, groups.risk_group, max(events.event_date) as evidence_date,
           string_agg(distinct events.cluster_id, ',') as evidence_value
    from events
    inner join {{ ref('flu_risk_groups') }} as groups
        on groups.cluster_id = events.cluster_id and groups.rule = 'any_code'
    group by events.pseudo_id, groups.risk_group
),

asthma as (
    select
        coded.pseudo_id,
        coalesce(coded.admission_date, treated.inhaler_date) as evidence_date,
        case when coded.admission_date is not null then 'asthma admission'
             else 'inhaler + ' || treated.oral_steroid_issues || ' oral steroid issues' end as evidence_value
    from (
        select
            pseudo_id,
            max(event_date) filter (where cluster_id = 'ASTADM_COD'
                and event_date > {{ project_months_before('flu_vaccination', reference_date(), 'asthma_admission_lookback_months') }}) as admission_date,
            max(event_date) filter (where cluster_id = 'AST_COD') as diagnosis_date
        from events group by pseudo_id
    ) as coded
    left join (
        select
            pseudo_id,
            max(issue_date) filter (where cluster_id = 'ASTRXM1_COD'
                and issue_date > {{ project_months_before('flu_vaccination', reference_date(), 'asthma_inhaler_lookback_months') }}) as inhaler_date,
            count(*) filter (where cluster_id = 'ASTRXM2_COD'
                and issue_date > {{ project_months_before('flu_vaccination', reference_date(), 'asthma_oral_steroid_lookback_months') }}) as oral_steroid_issues
        from medications group by pseudo_id
    ) as treated on treated.pseudo_id = coded.pseudo_id
    where coded.admission_date is not null
       or (coded.diagnosis_date is not null and treated.inhaler_date is not null
           and treated.oral_steroid_issues >= {{ project_param('flu_vaccination', 'asthma_oral_steroid_min_issues', 'integer') }})
),

chronic_kidney as (
    select pseudo_id, coalesce(ckd_date, ckd35_date) as evidence_date,
           case when ckd_date is not null then 'CKD_COD' else 'latest stage 3-5' end as evidence_value
    from (
        select
            pseudo_id,
            max(event_date) filter (where cluster_id = 'CKD_COD') as ckd_date,
            max(event_date) filter (where cluster_id = 'CKD15_COD') as ckd15_date,
            max(event_date) filter (where cluster_id = 'CKD35_COD') as ckd35_date
        from events group by pseudo_id
    )
    where ckd_date is not null or (ckd35_date is not null and ckd35_date >= ckd15_date)
),

pregnant as (
    select pseudo_id, max(event_date) as pregnancy_date
    from events
    where cluster_id = 'PREG_COD'
      and event_date > {{ project_months_before('flu_vaccination', reference_date(), 'pregnancy_lookback_months') }}
    group by pseudo_id
),

diabetes as (
    select coded.pseudo_id, coalesce(coded.diabetes_date, coded.gdm_date) as evidence_date,
           case when coded.diabetes_date is not null then 'DIAB_COD not resolved' else 'gestational diabetes, pregnant' end
               as evidence_value
    from (
        select
            pseudo_id,
            max(event_date) filter (where cluster_id = 'DIAB_COD') as diabetes_date,
            max(event_date) filter (where cluster_id = 'DMRES_COD') as resolved_date,
            max(event_date) filter (where cluster_id = 'GDIAB_COD') as gdm_date
        from events group by pseudo_id
    ) as coded
    left join pregnant on pregnant.pseudo_id = coded.pseudo_id
    where (coded.diabetes_date is not null and (coded.resolved_date is null or coded.resolved_date < coded.diabetes_date))
       or (coded.gdm_date is not null and pregnant.pseudo_id is not null)
),

immunosuppression_treatment as (
    select pseudo_id, max(evidence_date) as evidence_date, string_agg(distinct cluster_id, ',') as evidence_value
    from (
        select pseudo_id, event_date as evidence_date, cluster_id from events
        where cluster_id = 'DXT_CHEMO_COD'
        union all
        select pseudo_id, issue_date, cluster_id from medications where cluster_id = 'IMMRX_COD'
    )
    where evidence_date > {{ project_months_before('flu_vaccination', reference_date(), 'immunosuppression_treatment_lookback_months') }}
    group by pseudo_id
),

bmi as (
    select pseudo_id, event_date, value from events
    where cluster_id = 'BMI_COD' and value > 4 and value < 200
    qualify row_number() over (partition by pseudo_id order by event_date desc, value desc) = 1
),

morbid_obesity as (
    select
        coalesce(coded.pseudo_id, bmi.pseudo_id) as pseudo_id,
        case when coded.severe_date is not null and (bmi.event_date is null or coded.severe_date > bmi.event_date)
             then coded.severe_date else bmi.event_date end as evidence_date,
        case when coded.severe_date is not null and (bmi.event_date is null or coded.severe_date > bmi.event_date)
             then 'severe obesity code' else 'BMI ' || printf('%g', bmi.value) end as evidence_value
    from (
        select
            pseudo_id,
            max(event_date) filter (where cluster_id = 'SEV_OBESITY_COD') as severe_date,
            max(event_date) filter (where cluster_id = 'BMI_STAGE_COD') as stage_date
        from events group by pseudo_id
    ) as coded
    full outer join bmi on bmi.pseudo_id = coded.pseudo_id
    where (coded.severe_date is not null and (bmi.event_date is null or coded.severe_date > bmi.event_date))
       or (bmi.value >= {{ project_param('flu_vaccination', 'bmi_min') }}
           and (coded.stage_date is null or bmi.event_date >= coded.stage_date))
),

risk_groups as (
    select pseudo_id, risk_group, evidence_date, evidence_value from any_code_groups
    union all select pseudo_id, 'asthma', evidence_date, evidence_value from asthma
    union all select pseudo_id, 'chronic_kidney', evidence_date, evidence_value from chronic_kidney
    union all select pseudo_id, 'diabetes_endocrine', evidence_date, evidence_value from diabetes
    union all select pseudo_id, 'immunosuppression', evidence_date, evidence_value from immunosuppression_treatment
    union all select pseudo_id, 'morbid_obesity', evidence_date, evidence_value from morbid_obesity
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
        'clinical_risk_group:' || risk_groups.risk_group as rule_id,
        'inclusion' as rule_kind,
        'Clinical risk group (' || replace(risk_groups.risk_group, '_', ' ') || '), aged 6 months to 64' as rule_description,
        max(risk_groups.evidence_date) as evidence_date,
        any_value(risk_groups.evidence_value) as evidence_value
    from population
    inner join risk_groups on risk_groups.pseudo_id = population.pseudo_id
    where population.age_months >= {{ project_param('flu_vaccination', 'risk_min_age_months', 'integer') }}
      and population.age_on_age_reference_date <= {{ project_param('flu_vaccination', 'risk_max_age', 'integer') }}
      and (risk_groups.risk_group <> 'morbid_obesity'
           or population.age_months >= 12 * {{ project_param('flu_vaccination', 'obesity_min_age', 'integer') }})
      -- at-risk children from 1 September, at-risk adults from 1 October
      and (population.adult_campaign_started
           or population.age_months < 12 * ({{ project_param('flu_vaccination', 'early_group_max_age', 'integer') }} + 1))
    group by population.pseudo_id, risk_groups.risk_group
),

rule_pregnant as (
    select
        pregnant.pseudo_id,
        'pregnant' as rule_id,
        'inclusion' as rule_kind,
        'Pregnant (pregnancy code in the last ' || {{ project_param('flu_vaccination', 'pregnancy_lookback_months', 'integer') }} || ' months)' as rule_description,
        pregnant.pregnancy_date as evidence_date,
        cast(null as varchar) as evidence_value
    from pregnant
    inner join population on population.pseudo_id = pregnant.pseudo_id
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
        carers.carer_date as evidence_date,
        cast(null as varchar) as evidence_value
    from (
        select
            pseudo_id,
            max(event_date) filter (where cluster_id = 'CARER_COD') as carer_date,
            max(event_date) filter (where cluster_id = 'NOTCARER_COD') as not_carer_date
        from events group by pseudo_id
    ) as carers
    inner join population on population.pseudo_id = carers.pseudo_id
    where carers.carer_date is not null and (carers.not_carer_date is null or carers.carer_date > carers.not_carer_date)
      and population.adult_campaign_started
),

rule_household_contact as (
    select
        population.pseudo_id,
        'household_contact_of_immunosuppressed' as rule_id,
        'inclusion' as rule_kind,
        'Household contact of an immunocompromised person' as rule_description,
        max(events.event_date) as evidence_date,
        cast(null as varchar) as evidence_value
    from events
    inner join population on population.pseudo_id = events.pseudo_id
    where events.cluster_id = 'HHLD_IMDEF_COD' and population.adult_campaign_started
    group by population.pseudo_id
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
    select pseudo_id, 'vaccinated_this_season' as rule_id, 'exclusion' as rule_kind,
           'Vaccinated against flu this season' as rule_description,
           max(evidence_date) as evidence_date, cast(null as varchar) as evidence_value
    from (
        select vaccinations.pseudo_id, vaccinations.event_date as evidence_date
        from ({{ get_observations(['FLUVAX_COD']) }}) as vaccinations
        inner join population on population.pseudo_id = vaccinations.pseudo_id
        where vaccinations.event_date >= population.season_start_date
        union all
        select medications.pseudo_id, medications.issue_date
        from {{ ref('stg_gp__medications') }} as medications
        inner join {{ ref('int_codelist_codes') }} as codes
            on codes.code = medications.dmd_code and codes.cluster_id = 'FLURX_COD'
        inner join population on population.pseudo_id = medications.pseudo_id
        where medications.issue_date >= population.season_start_date
          and medications.issue_date <= {{ reference_date() }}
    )
    group by pseudo_id
),

excluded_declined as (
    select declines.pseudo_id, 'declined_this_season' as rule_id, 'exclusion' as rule_kind,
           'Declined flu vaccination this season' as rule_description,
           max(declines.event_date) as evidence_date, cast(null as varchar) as evidence_value
    from ({{ get_observations(['FLUDEC_COD']) }}) as declines
    inner join population on population.pseudo_id = declines.pseudo_id
    where declines.event_date >= population.season_start_date
    group by declines.pseudo_id
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
