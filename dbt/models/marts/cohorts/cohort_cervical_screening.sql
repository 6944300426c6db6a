-- Protect NoW: cervical screening catch-up, as of the reference date.
--
-- Rules (NHS Cervical Screening Programme; QOF 2023/24 CS005 / CS006 business rules;
-- parameters in seed project_parameters, project cervical_screening):
--   has_cervix      registered female with no hysterectomy code; or registered male or
--                   unknown with a cervical screening record (a cervix recorded: trans men
--                   and non-binary people registered male keep their recall) - local
--                   placeholder CERVIX_LOCAL also counts;
--   age_in_range    aged 24.5 to 64 (first invitation 6 months before the 25th birthday:
--                   age_at(birth_month, reference date + 6 months) >= 25, and age <= 64);
--   overdue         no cervical screening test (GMSDE_CERVICAL_SMEAR, stand-in for
--                   SMEAR_COD) in the last 42 months if aged up to 49, 66 months if 50-64
--                   (QOF "in the preceding 3 years 6 months / 5 years 6 months");
-- Exclusions:
--   ceased          a hysterectomy code (GMSDE_HYSTERECTOMY, any sex; fails has_cervix),
--                   or a 'screening unsuitable' code (CSPU_COD, local placeholder awaiting
--                   the PCD refset) not followed by a later test;
--   recent decline  a decline code (CSDEC_COD, local placeholder) after the latest test and
--                   in the last 12 months: informed choice, re-offered after 12 months.
-- Ages are in completed years from birth_month (macro age_at; see its note).
-- clinical_priority: months since the latest test (never screened = 999), so the longest
-- overdue come first.
with population as (
    select * from {{ ref('int_cohort_population') }}
),

tests as (
    select pseudo_id, max(event_date) as latest_test_date
    from ({{ get_observations(['GMSDE_CERVICAL_SMEAR']) }})
    group by pseudo_id
),

hysterectomies as (
    select pseudo_id, max(event_date) as hysterectomy_date
    from ({{ get_observations(['GMSDE_HYSTERECTOMY']) }})
    group by pseudo_id
),

cervix_recorded as (
    select pseudo_id, max(event_date) as cervix_code_date
    from ({{ get_observations(['CERVIX_LOCAL']) }})
    group by pseudo_id
),

unsuitable as (
    select pseudo_id, max(event_date) as unsuitable_date
    from ({{ get_observations(['CSPU_COD']) }})
    group by pseudo_id
),

declines as (
    select pseudo_id, max(event_date) as decline_date
    from ({{ get_observations(['CSDEC_COD']) }})
    group by pseudo_id
),

people as (
    select
        population.pseudo_id,
        population.sex,
        population.age,
        {{ age_at('population.birth_month',
                  reference_date() ~ ' + to_months(' ~ project_param('cervical_screening', 'invite_lead_months', 'integer') ~ ')') }}
            as age_at_next_invitation,
        tests.latest_test_date,
        hysterectomies.hysterectomy_date,
        cervix_recorded.cervix_code_date,
        unsuitable.unsuitable_date,
        declines.decline_date
    from population
    left join tests on tests.pseudo_id = population.pseudo_id
    left join hysterectomies on hysterectomies.pseudo_id = population.pseudo_id
    left join cervix_recorded on cervix_recorded.pseudo_id = population.pseudo_id
    left join unsuitable on unsuitable.pseudo_id = population.pseudo_id
    left join declines on declines.pseudo_id = population.pseudo_id
),

rule_has_cervix as (
    select
        pseudo_id,
        'has_cervix' as rule_id,
        case when sex = 'F' then 'Registered female, no hysterectomy recorded'
             else 'Registered ' || case when sex = 'M' then 'male' else 'sex unknown' end
                  || ' with a cervix recorded (cervical screening record)' end as rule_description,
        coalesce(cervix_code_date, case when sex <> 'F' then latest_test_date end) as evidence_date,
        sex as evidence_value
    from people
    where hysterectomy_date is null
      and (sex = 'F' or latest_test_date is not null or cervix_code_date is not null)
),

rule_age_in_range as (
    select
        pseudo_id,
        'age_in_range' as rule_id,
        'Aged 24.5 to ' || {{ project_param('cervical_screening', 'max_age', 'integer') }}
            || ' (invited from 6 months before the 25th birthday)' as rule_description,
        cast(null as date) as evidence_date,
        cast(age as varchar) as evidence_value
    from people
    where age_at_next_invitation >= {{ project_param('cervical_screening', 'min_age', 'integer') }}
      and age <= {{ project_param('cervical_screening', 'max_age', 'integer') }}
),

rule_overdue as (
    select
        pseudo_id,
        'not_screened_within_interval' as rule_id,
        'No cervical screening test in the last ' || interval_months || ' months ('
            || case when age <= {{ project_param('cervical_screening', 'younger_band_max_age', 'integer') }}
                    then 'aged up to 49: 3.5-yearly' else 'aged 50-64: 5.5-yearly' end || ', as QOF counts)'
            as rule_description,
        latest_test_date as evidence_date,
        case when latest_test_date is null then 'never screened'
             else 'last test ' || latest_test_date end as evidence_value
    from (
        select
            *,
            case when age <= {{ project_param('cervical_screening', 'younger_band_max_age', 'integer') }}
                 then {{ project_param('cervical_screening', 'younger_interval_months', 'integer') }}
                 else {{ project_param('cervical_screening', 'older_interval_months', 'integer') }}
            end as interval_months
        from people
    )
    where latest_test_date is null
       or latest_test_date <= {{ reference_date() }} - to_months(interval_months)
),

excluded_ceased as (
    select pseudo_id from people
    where unsuitable_date is not null
      and (latest_test_date is null or unsuitable_date >= latest_test_date)
),

excluded_recent_decline as (
    select pseudo_id from people
    where decline_date is not null
      and (latest_test_date is null or decline_date >= latest_test_date)
      and decline_date > {{ project_months_before('cervical_screening', reference_date(), 'decline_lookback_months') }}
),

eligible as (
    select people.pseudo_id, people.latest_test_date, people.age
    from people
    where pseudo_id in (select pseudo_id from rule_has_cervix)
      and pseudo_id in (select pseudo_id from rule_age_in_range)
      and pseudo_id in (select pseudo_id from rule_overdue)
      and pseudo_id not in (select pseudo_id from excluded_ceased)
      and pseudo_id not in (select pseudo_id from excluded_recent_decline)
),

evidence as (
    select * from rule_has_cervix
    union all select * from rule_age_in_range
    union all select * from rule_overdue
)

select
    eligible.pseudo_id,
    population.practice_code,
    case when eligible.latest_test_date is null then 'never_screened'
         when eligible.age <= {{ project_param('cervical_screening', 'younger_band_max_age', 'integer') }} then 'overdue_25_49'
         else 'overdue_50_64' end as eligibility_group,
    cast(coalesce(date_diff('month', eligible.latest_test_date, {{ reference_date() }}), 999) as double)
        as clinical_priority,
    {{ cohort_reason_columns() }},
    {{ reference_date() }} as reference_date
from eligible
inner join population on population.pseudo_id = eligible.pseudo_id
inner join evidence on evidence.pseudo_id = eligible.pseudo_id
group by all
