-- Who is in a flu vaccination group by a condition or circumstance recorded in the GP
-- record, as of the reference date: one row per person and group (group_id), with the
-- evidence. Defined once here for both the flu cohort (int_cohort_flu_vaccination_rules)
-- and the uptake denominator of "under 65 at risk" (int_programme_uptake): the clinical
-- risk groups (is_clinical_risk_group) are the UKHSA/PRIMIS at-risk cohort, so a BMI of 25,
-- an asthma code alone or a resolved diabetes code puts nobody in it.
--
-- Sources (checked 2026-11): the annual flu letter 2026/27 and Green Book chapter 19 as
-- summarised in CLINICAL_RULES.md; the PRIMIS flu/COVID-19 eligibility specification for
-- the clinical risk groups, as implemented by OpenSAFELY (opensafely/reusable-variables
-- analysis/PRIMIS/variables_function.py @ 27bd11f, the repository of the PRIMIS v2.5 code
-- lists in seed codelist_codes). Clusters per group: seed flu_risk_groups.
--
-- Clinical risk groups (aged 6 months on the reference date to 64 on the season's age
-- reference date, 31 March; int_person_ages, to the day):
--   chronic_respiratory, chronic_heart, chronic_liver, chronic_neurological,
--   learning_disability, asplenia, immunosuppression (diagnosis / admin code), Addison's
--   (diabetes_endocrine): any code (flu_risk_groups rule any_code);
--   asthma: an asthma admission in 24 months, or an asthma diagnosis with an asthma inhaler
--     issued in 12 months and 2+ oral/systemic steroid issues in 24 months (PRIMIS
--     has_asthma) - any asthma code alone does not qualify;
--   chronic_kidney: any CKD_COD code (incl. nephrotic syndrome, transplant), or the latest
--     CKD stage code is stage 3-5 (PRIMIS has_ckd);
--   diabetes_endocrine: the latest diabetes code not followed by a resolved code, or
--     gestational diabetes while pregnant (PRIMIS has_diabetes);
--   immunosuppression: also immunosuppressant medication or chemo/radiotherapy in the last
--     6 months (CLINICAL_RULES);
--   morbid_obesity (18+ on the reference date): latest BMI value >= 40 unless a newer BMI
--     stage code, or a severe-obesity code newer than the latest value (PRIMIS
--     has_severe_obesity).
-- Other groups (no age limit here; the cohort applies campaign starts):
--   pregnant                 a pregnancy code in the last 9 months;
--   carer                    latest carer code not followed by 'no longer a carer';
--   household_contact_of_immunosuppressed  HHLD_IMDEF_COD (PRIMIS).
-- One scan of the events and one of the medications for every group.
with season as (
    select * from {{ ref('int_flu_season') }}
),

ages as (
    select
        today.pseudo_id,
        today.age_months,
        march.age_years as age_on_age_reference_date
    from {{ ref('int_person_ages') }} as today
    cross join season
    inner join {{ ref('int_person_ages') }} as march
        on march.pseudo_id = today.pseudo_id and march.on_date = season.age_reference_date
    where today.on_date = {{ reference_date() }}
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

latest as (
    select
        pseudo_id,
        max(event_date) filter (where cluster_id = 'ASTADM_COD'
            and event_date > {{ project_months_before('flu_vaccination', reference_date(), 'asthma_admission_lookback_months') }})
            as asthma_admission_date,
        max(event_date) filter (where cluster_id = 'AST_COD') as asthma_date,
        max(event_date) filter (where cluster_id = 'CKD_COD') as ckd_date,
        max(event_date) filter (where cluster_id = 'CKD15_COD') as ckd15_date,
        max(event_date) filter (where cluster_id = 'CKD35_COD') as ckd35_date,
        max(event_date) filter (where cluster_id = 'DIAB_COD') as diabetes_date,
        max(event_date) filter (where cluster_id = 'DMRES_COD') as diabetes_resolved_date,
        max(event_date) filter (where cluster_id = 'GDIAB_COD') as gdm_date,
        max(event_date) filter (where cluster_id = 'PREG_COD'
            and event_date > {{ project_months_before('flu_vaccination', reference_date(), 'pregnancy_lookback_months') }})
            as pregnancy_date,
        max(event_date) filter (where cluster_id = 'SEV_OBESITY_COD') as severe_obesity_date,
        max(event_date) filter (where cluster_id = 'BMI_STAGE_COD') as bmi_stage_date,
        max(event_date) filter (where cluster_id = 'DXT_CHEMO_COD'
            and event_date > {{ project_months_before('flu_vaccination', reference_date(), 'immunosuppression_treatment_lookback_months') }})
            as chemo_date,
        max(event_date) filter (where cluster_id = 'CARER_COD') as carer_date,
        max(event_date) filter (where cluster_id = 'NOTCARER_COD') as not_carer_date,
        max(event_date) filter (where cluster_id = 'HHLD_IMDEF_COD') as household_contact_date
    from events
    group by pseudo_id
),

treated as (
    select
        pseudo_id,
        max(issue_date) filter (where cluster_id = 'ASTRXM1_COD'
            and issue_date > {{ project_months_before('flu_vaccination', reference_date(), 'asthma_inhaler_lookback_months') }})
            as inhaler_date,
        count(*) filter (where cluster_id = 'ASTRXM2_COD'
            and issue_date > {{ project_months_before('flu_vaccination', reference_date(), 'asthma_oral_steroid_lookback_months') }})
            as oral_steroid_issues,
        max(issue_date) filter (where cluster_id = 'IMMRX_COD'
            and issue_date > {{ project_months_before('flu_vaccination', reference_date(), 'immunosuppression_treatment_lookback_months') }})
            as immunosuppressant_date
    from medications
    group by pseudo_id
),

bmi as (
    select pseudo_id, event_date, value from events
    where cluster_id = 'BMI_COD' and value > 4 and value < 200
    qualify row_number() over (partition by pseudo_id order by event_date desc, value desc) = 1
),

any_code_groups as (
    select events.pseudo_id, groups.risk_group as group_id, max(events.event_date) as evidence_date,
           string_agg(distinct events.cluster_id, ',' order by events.cluster_id) as evidence_value
    from events
    inner join {{ ref('flu_risk_groups') }} as groups
        on groups.cluster_id = events.cluster_id and groups.rule = 'any_code'
    group by events.pseudo_id, groups.risk_group
),

special_groups as (
    select latest.pseudo_id, 'asthma' as group_id,
           coalesce(latest.asthma_admission_date, treated.inhaler_date) as evidence_date,
           case when latest.asthma_admission_date is not null then 'asthma admission'
                else 'inhaler + ' || treated.oral_steroid_issues || ' oral steroid issues' end as evidence_value
    from latest
    left join treated on treated.pseudo_id = latest.pseudo_id
    where latest.asthma_admission_date is not null
       or (latest.asthma_date is not null and treated.inhaler_date is not null
           and treated.oral_steroid_issues >= {{ project_param('flu_vaccination', 'asthma_oral_steroid_min_issues', 'integer') }})

    union all
    select pseudo_id, 'chronic_kidney', coalesce(ckd_date, ckd35_date),
           case when ckd_date is not null then 'CKD_COD' else 'latest stage 3-5' end
    from latest
    where ckd_date is not null or (ckd35_date is not null and ckd35_date >= ckd15_date)

    union all
    select pseudo_id, 'diabetes_endocrine', coalesce(diabetes_date, gdm_date),
           case when diabetes_date is not null and (diabetes_resolved_date is null or diabetes_resolved_date < diabetes_date)
                then 'DIAB_COD not resolved' else 'gestational diabetes, pregnant' end
    from latest
    where (diabetes_date is not null and (diabetes_resolved_date is null or diabetes_resolved_date < diabetes_date))
       or (gdm_date is not null and pregnancy_date is not null)

    union all
    select coalesce(latest.pseudo_id, treated.pseudo_id), 'immunosuppression',
           greatest(latest.chemo_date, treated.immunosuppressant_date),
           concat_ws(',', case when latest.chemo_date is not null then 'DXT_CHEMO_COD' end,
                          case when treated.immunosuppressant_date is not null then 'IMMRX_COD' end)
    from latest
    full outer join treated on treated.pseudo_id = latest.pseudo_id
    where latest.chemo_date is not null or treated.immunosuppressant_date is not null

    union all
    select
        coalesce(latest.pseudo_id, bmi.pseudo_id), 'morbid_obesity',
        case when latest.severe_obesity_date is not null and (bmi.event_date is null or latest.severe_obesity_date > bmi.event_date)
             then latest.severe_obesity_date else bmi.event_date end,
        case when latest.severe_obesity_date is not null and (bmi.event_date is null or latest.severe_obesity_date > bmi.event_date)
             then 'severe obesity code' else 'BMI ' || printf('%g', bmi.value) end
    from latest
    full outer join bmi on bmi.pseudo_id = latest.pseudo_id
    where (latest.severe_obesity_date is not null and (bmi.event_date is null or latest.severe_obesity_date > bmi.event_date))
       or (bmi.value >= {{ project_param('flu_vaccination', 'bmi_min') }}
           and (latest.bmi_stage_date is null or bmi.event_date >= latest.bmi_stage_date))
),

clinical_risk_groups as (
    select groups.pseudo_id, groups.group_id, max(groups.evidence_date) as evidence_date,
           string_agg(distinct groups.evidence_value, ',' order by groups.evidence_value) as evidence_value
    from (select * from any_code_groups union all select * from special_groups) as groups
    inner join ages on ages.pseudo_id = groups.pseudo_id
    where ages.age_months >= {{ project_param('flu_vaccination', 'risk_min_age_months', 'integer') }}
      and ages.age_on_age_reference_date <= {{ project_param('flu_vaccination', 'risk_max_age', 'integer') }}
      and (groups.group_id <> 'morbid_obesity'
           or ages.age_months >= 12 * {{ project_param('flu_vaccination', 'obesity_min_age', 'integer') }})
    group by groups.pseudo_id, groups.group_id
),

other_groups as (
    select pseudo_id, 'pregnant' as group_id, pregnancy_date as evidence_date, cast(null as varchar) as evidence_value
    from latest where pregnancy_date is not null
    union all
    select pseudo_id, 'carer', carer_date, null
    from latest where carer_date is not null and (not_carer_date is null or carer_date > not_carer_date)
    union all
    select pseudo_id, 'household_contact_of_immunosuppressed', household_contact_date, null
    from latest where household_contact_date is not null
)

select pseudo_id, group_id, true as is_clinical_risk_group, evidence_date, evidence_value from clinical_risk_groups
union all
select pseudo_id, group_id, false, evidence_date, evidence_value from other_groups
