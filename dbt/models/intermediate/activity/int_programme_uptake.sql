-- Eligibility and uptake per person for each Protect NoW programme, and condition
-- prevalence, as of the reference date: one row per person and measure they are in the
-- denominator of, with whether they are in the numerator. Feeds mart_inequalities and
-- mart_inequalities_gradient. Denominators are each programme's eligible population as
-- national uptake statistics count it (not the outreach cohorts, which leave out the
-- people already vaccinated or screened):
--   flu_uptake_65_plus         aged 65+ on the season's age reference date (31 March) of the
--                              latest season started on or before the reference date (seed
--                              flu_seasons); numerator: a flu vaccination (FLUVAX_COD) or a flu
--                              vaccine issue (FLURX_COD) from the season start to the season end
--                              or the reference date (UKHSA seasonal flu uptake, GP patients 65+);
--   flu_uptake_under_65_at_risk  aged 6 months to 64 with a code of a clinical risk group (seed
--                              flu_risk_groups, any time; the UKHSA "under 65 at risk" cohort,
--                              simplified: group-specific refinements such as CKD stage are not
--                              applied); numerator as above;
--   covid_uptake_75_plus       the latest COVID-19 campaign started on or before the reference
--                              date (seed covid_campaigns): aged min_age (75)+ on its age
--                              reference date (the UKHSA age cohort; care home residents and the
--                              immunosuppressed are reported separately nationally and are not
--                              measured here); numerator: a COVID-19 vaccination (COVADM1-5_COD,
--                              OS_COVID_VACC_GIVEN) in the campaign;
--   cervical_screening_coverage  people with a cervix (sex F with no hysterectomy code,
--                              GMSDE_HYSTERECTOMY) aged 25-64; numerator: a cervical screening test
--                              (GMSDE_CERVICAL_SMEAR) in the last 42 months (aged 25-49) or 66
--                              months (50-64) (NHSCSP coverage; QOF CS005/CS006; seed
--                              project_parameters);
--   ndpp_referral              adults (18+) on the non-diabetic hyperglycaemia register, not
--                              diabetic; numerator: a referral to the NHS Diabetes Prevention
--                              Programme (DPPREF_COD) at any time;
--   talking_therapies_access   adults (18+) on the depression or anxiety register; numerator: a
--                              referral to NHS Talking Therapies in the last 12 months;
--   prevalence_<condition>     everyone; numerator: on the register (mart_condition_flags).
with people as (
    select pseudo_id, birth_month, age, sex from {{ ref('dim_person') }}
),

conditions as (
    select * from {{ ref('mart_condition_flags') }}
),

flu_season as (
    select * from {{ ref('flu_seasons') }}
    where season_start_date <= {{ reference_date() }}
    qualify row_number() over (order by season_start_date desc) = 1
),

flu_vaccinated as (
    select vaccinations.pseudo_id
    from ({{ get_observations(['FLUVAX_COD']) }}) as vaccinations
    cross join flu_season
    where vaccinations.event_date between flu_season.season_start_date and flu_season.season_end_date
    union
    select medications.pseudo_id
    from {{ ref('stg_gp__medications') }} as medications
    inner join {{ ref('int_codelist_codes') }} as codes
        on codes.code = medications.dmd_code and codes.cluster_id = 'FLURX_COD'
    cross join flu_season
    where medications.issue_date between flu_season.season_start_date and flu_season.season_end_date
      and medications.issue_date <= {{ reference_date() }}
),

flu_risk as (
    select distinct pseudo_id
    from ({{ get_observations("select cluster_id from " ~ ref('flu_risk_groups')) }})
),

covid_campaign as (
    select * from {{ ref('covid_campaigns') }}
    where start_date <= {{ reference_date() }}
    qualify row_number() over (order by start_date desc) = 1
),

covid_vaccinated as (
    select distinct vaccinations.pseudo_id
    from ({{ get_observations(['COVADM1_COD', 'COVADM2_COD', 'COVADM3_COD', 'COVADM4_COD', 'COVADM5_COD', 'OS_COVID_VACC_GIVEN']) }}) as vaccinations
    cross join covid_campaign
    where vaccinations.event_date between covid_campaign.start_date and covid_campaign.end_date
),

hysterectomy as (
    select distinct pseudo_id from ({{ get_observations(['GMSDE_HYSTERECTOMY']) }})
),

latest_smear as (
    select pseudo_id, max(event_date) as latest_test_date
    from ({{ get_observations(['GMSDE_CERVICAL_SMEAR']) }})
    group by pseudo_id
),

dpp_referred as (
    select distinct pseudo_id from ({{ get_observations(['DPPREF_COD']) }})
),

service_use as (
    select * from {{ ref('int_service_use') }}
),

measures as (
    select people.pseudo_id, 'flu_uptake_65_plus' as measure, 'programme_uptake' as measure_kind,
           flu_vaccinated.pseudo_id is not null as in_numerator
    from people
    cross join flu_season
    left join flu_vaccinated on flu_vaccinated.pseudo_id = people.pseudo_id
    where {{ age_at('people.birth_month', 'flu_season.age_reference_date') }} >= {{ project_param('flu_vaccination', 'older_min_age', 'integer') }}

    union all
    select people.pseudo_id, 'flu_uptake_under_65_at_risk', 'programme_uptake',
           flu_vaccinated.pseudo_id is not null
    from people
    cross join flu_season
    inner join flu_risk on flu_risk.pseudo_id = people.pseudo_id
    left join flu_vaccinated on flu_vaccinated.pseudo_id = people.pseudo_id
    where people.birth_month + to_months({{ project_param('flu_vaccination', 'risk_min_age_months', 'integer') }}) <= {{ reference_date() }}
      and {{ age_at('people.birth_month', 'flu_season.age_reference_date') }} <= {{ project_param('flu_vaccination', 'risk_max_age', 'integer') }}

    union all
    select people.pseudo_id, 'covid_uptake_75_plus', 'programme_uptake', covid_vaccinated.pseudo_id is not null
    from people
    cross join covid_campaign
    left join covid_vaccinated on covid_vaccinated.pseudo_id = people.pseudo_id
    where {{ age_at('people.birth_month', 'covid_campaign.age_reference_date') }} >= covid_campaign.min_age

    union all
    select people.pseudo_id, 'cervical_screening_coverage', 'programme_uptake',
           coalesce(latest_smear.latest_test_date > {{ reference_date() }} - to_months(
               case when people.age <= {{ project_param('cervical_screening', 'younger_band_max_age', 'integer') }}
                    then {{ project_param('cervical_screening', 'younger_interval_months', 'integer') }}
                    else {{ project_param('cervical_screening', 'older_interval_months', 'integer') }} end), false)
    from people
    left join hysterectomy on hysterectomy.pseudo_id = people.pseudo_id
    left join latest_smear on latest_smear.pseudo_id = people.pseudo_id
    where people.sex = 'F' and hysterectomy.pseudo_id is null
      and people.age between {{ project_param('cervical_screening', 'min_age', 'integer') }}
                         and {{ project_param('cervical_screening', 'max_age', 'integer') }}

    union all
    select people.pseudo_id, 'ndpp_referral', 'programme_uptake', dpp_referred.pseudo_id is not null
    from people
    inner join conditions on conditions.pseudo_id = people.pseudo_id
    left join dpp_referred on dpp_referred.pseudo_id = people.pseudo_id
    where people.age >= {{ project_param('dpp', 'min_age', 'integer') }}
      and conditions.has_ndh and not conditions.has_diabetes

    union all
    select people.pseudo_id, 'talking_therapies_access', 'programme_uptake',
           coalesce(service_use.talking_therapies_referrals_12m > 0, false)
    from people
    inner join conditions on conditions.pseudo_id = people.pseudo_id
    left join service_use on service_use.pseudo_id = people.pseudo_id
    where people.age >= 18 and (conditions.has_depression or conditions.has_anxiety)

    {%- for condition in ['diabetes', 'hypertension', 'copd', 'chd', 'heart_failure', 'ndh', 'depression', 'smi', 'dementia'] %}
    union all
    select people.pseudo_id, 'prevalence_{{ condition }}', 'condition_prevalence', conditions.has_{{ condition }}
    from people
    inner join conditions on conditions.pseudo_id = people.pseudo_id
    {%- endfor %}
)

select measures.pseudo_id, measures.measure, measures.measure_kind, measures.in_numerator
from measures
