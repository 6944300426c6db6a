-- Eligibility and uptake per person for each Protect NoW programme, and condition
-- prevalence, as of the reference date: one row per person and measure they are in the
-- denominator of, with whether they are in the numerator. Feeds mart_inequalities and
-- mart_inequalities_gradient. Denominators are each programme's eligible population as
-- national uptake statistics count it (not the outreach cohorts, which leave out the
-- people already vaccinated or screened), built from the same definitions as the cohorts
-- (one definition per concept) and exact ages to the day (int_person_ages):
--   flu_uptake_65_plus         aged 65+ on the age reference date (31 March) of the flu
--                              season of the reference date (int_flu_season: the latest
--                              started); numerator: vaccinated in that season
--                              (int_flu_vaccinations_season: FLUVAX_COD or a FLURX_COD issue,
--                              up to the reference date) (UKHSA seasonal flu uptake, GP
--                              patients 65+);
--   flu_uptake_under_65_at_risk  in a clinical risk group of int_flu_eligible_groups - the
--                              PRIMIS at-risk rules of the flu cohort, aged 6 months to 64
--                              (asthma needs steroids or an admission, CKD stage 3-5 or a CKD
--                              diagnosis, unresolved diabetes, BMI 40+ at 18+ ...; pregnancy,
--                              carers and household contacts are not "at risk", as UKHSA
--                              reports them separately); numerator as above;
--   covid_uptake_75_plus       the COVID-19 campaign of the reference date (int_covid_campaign:
--                              the latest started): aged min_age (75)+ on its age reference
--                              date (the UKHSA age cohort; care home residents and the
--                              immunosuppressed are reported separately nationally and are not
--                              measured here); numerator: vaccinated in the campaign
--                              (int_covid_vaccinations_campaign: COVADM1-5_COD,
--                              OS_COVID_VACC_GIVEN);
--   cervical_screening_coverage  people with a cervix (int_cervical_screening_history: the
--                              cohort's has-cervix rule - female with no cervix-removing
--                              procedure, so LLETZ, cone biopsy and subtotal hysterectomy stay
--                              in; trans men and non-binary people with a cervix on record)
--                              aged 25-64 to the day, not ceased from screening (NHS Digital
--                              coverage counts the eligible, ceased excluded); numerator: an
--                              adequate test (CS_TEST_COD, status codes are not tests) in the
--                              last 42 months (aged 25-49) or 66 months (50-64) (NHSCSP coverage;
--                              QOF CS005/CS006; seed project_parameters). Decliners stay in
--                              the denominator (national coverage; the cohort honours a recent
--                              decline instead);
--   ndpp_referral              adults (18+) on the non-diabetic hyperglycaemia register, not
--                              diabetic; numerator: a referral to the NHS Diabetes Prevention
--                              Programme (DPPREF_COD) at any time;
--   talking_therapies_access   adults (18+) on the depression or anxiety register; numerator: a
--                              referral to NHS Talking Therapies in the last 12 months;
--   prevalence_<condition>     everyone; numerator: on the register (mart_condition_flags).
with people as (
    select people.pseudo_id, ages.age_years as age
    from {{ ref('dim_person') }} as people
    inner join {{ ref('int_person_ages') }} as ages
        on ages.pseudo_id = people.pseudo_id and ages.on_date = {{ reference_date() }}
),

ages as (
    select pseudo_id, on_date, age_years from {{ ref('int_person_ages') }}
),

conditions as (
    select * from {{ ref('mart_condition_flags') }}
),

flu_season as (
    select * from {{ ref('int_flu_season') }}
),

flu_vaccinated as (
    select pseudo_id from {{ ref('int_flu_vaccinations_season') }}
    where vaccinated_date is not null
),

flu_at_risk as (
    select distinct pseudo_id from {{ ref('int_flu_eligible_groups') }}
    where is_clinical_risk_group
),

covid_campaign as (
    select * from {{ ref('int_covid_campaign') }}
),

covid_vaccinated as (
    select pseudo_id from {{ ref('int_covid_vaccinations_campaign') }}
    where vaccinated_date is not null
),

cervical as (
    select * from {{ ref('int_cervical_screening_history') }}
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
    inner join ages on ages.pseudo_id = people.pseudo_id and ages.on_date = flu_season.age_reference_date
    left join flu_vaccinated on flu_vaccinated.pseudo_id = people.pseudo_id
    where ages.age_years >= {{ project_param('flu_vaccination', 'older_min_age', 'integer') }}

    union all
    select people.pseudo_id, 'flu_uptake_under_65_at_risk', 'programme_uptake',
           flu_vaccinated.pseudo_id is not null
    from people
    inner join flu_at_risk on flu_at_risk.pseudo_id = people.pseudo_id
    left join flu_vaccinated on flu_vaccinated.pseudo_id = people.pseudo_id

    union all
    select people.pseudo_id, 'covid_uptake_75_plus', 'programme_uptake', covid_vaccinated.pseudo_id is not null
    from people
    cross join covid_campaign
    inner join ages on ages.pseudo_id = people.pseudo_id and ages.on_date = covid_campaign.age_reference_date
    left join covid_vaccinated on covid_vaccinated.pseudo_id = people.pseudo_id
    where ages.age_years >= covid_campaign.min_age

    union all
    select people.pseudo_id, 'cervical_screening_coverage', 'programme_uptake',
           coalesce(cervical.latest_test_date > {{ reference_date() }} - to_months(
               case when people.age <= {{ project_param('cervical_screening', 'younger_band_max_age', 'integer') }}
                    then {{ project_param('cervical_screening', 'younger_interval_months', 'integer') }}
                    else {{ project_param('cervical_screening', 'older_interval_months', 'integer') }} end), false)
    from people
    inner join cervical on cervical.pseudo_id = people.pseudo_id
    where cervical.has_cervix and not cervical.is_ceased
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
