{{ config(schema='intermediate') }}
-- Every cervical screening rule and exclusion met, per person, as of the reference date
-- (one row per person and rule; rule_kind inclusion / exclusion). cohort_cervical_screening
-- composes them; mart cohort_rule_coverage counts them.
--
-- Sources (checked 2026-11): NHS Cervical Screening Programme (NHSCSP) guidance; QOF
-- 2024/25 CS005/CS006 business rules (coverage windows); NHS England, "Cervical screening:
-- extended 5-year recall for HPV-negative results", 1 July 2025 (5-year recall after an
-- HPV-negative test at 25-49 on or after 2025-07-01); NHSCSP ceasing guidance (ceasing
-- needs the cervix removed or a recorded ceasing decision; subtotal hysterectomy and local
-- excision such as LLETZ or cone biopsy leave the cervix and are followed by test of cure).
-- The screening history and has-cervix are defined once in int_cervical_screening_history
-- (code lists and their curation documented there; shared with the coverage measure).
--
-- Inclusions (all three needed):
--   has_cervix                  registered female and no cervix-removing procedure (or
--                               cervix evidence after it); or registered male / unknown
--                               with evidence of a cervix (a test, a cervix-retaining
--                               procedure or the cervix-present code) not followed by a
--                               cervix-removing procedure - trans men and non-binary
--                               people keep their recall (NHSCSP, 2025 opt-in);
--   age_in_range                24.5 to 64 to the day: 25 or over on the date of the next
--                               invitation (reference date + 6 months), 64 or under today;
--   overdue                     no adequate test within the person's interval (evidence row
--                               recall_interval:<basis> says which applies): 42 months at
--                               25-49, 66 months at 50-64 (QOF CS005/CS006: 3.5 / 5.5 years);
--                               66 months after an HPV-negative test taken on or after
--                               2025-07-01 (5-year recall + the same 6-month grace); 12
--                               months after an HPV-positive test (early recall).
-- Exclusions:
--   ceased                      CSPU_COD not followed by a later adequate test;
--   declined                    CSDEC_COD after the latest test and within the person's
--                               interval window (QOF counts a decline in the indicator
--                               window as a personalised care adjustment; project policy
--                               respects it for the same window).
-- evidence rows: screening_history (never screened / lapsed) for the outreach script.
with population as (
    select * from {{ ref('int_cohort_population') }}
),

ages_next_invitation as (
    select pseudo_id, age_years
    from {{ ref('int_person_ages') }}
    where on_date = cast({{ reference_date() }} + to_months({{ project_param('cervical_screening', 'invite_lead_months', 'integer') }}) as date)
),

history as (
    select * from {{ ref('int_cervical_screening_history') }}
),

people as (
    select
        population.pseudo_id,
        population.sex,
        population.age,
        ages_next_invitation.age_years as age_at_next_invitation,
        history.* exclude (pseudo_id, sex),
        case
            when history.latest_hpv_positive_date is not null
                 and history.latest_hpv_positive_date >= history.latest_test_date
                then {{ project_param('cervical_screening', 'hpv_positive_recall_months', 'integer') }}
            when population.age <= {{ project_param('cervical_screening', 'younger_band_max_age', 'integer') }}
                 and not coalesce(history.latest_hpv_negative_date >= history.latest_test_date
                                  and history.latest_hpv_negative_date >= {{ project_param('cervical_screening', 'hpv_negative_recall_from', 'date') }}, false)
                then {{ project_param('cervical_screening', 'younger_interval_months', 'integer') }}
            else {{ project_param('cervical_screening', 'older_interval_months', 'integer') }}
        end as interval_months,
        case
            when history.latest_hpv_positive_date is not null
                 and history.latest_hpv_positive_date >= history.latest_test_date then 'hpv_positive_early_recall'
            when population.age > {{ project_param('cervical_screening', 'younger_band_max_age', 'integer') }} then 'aged_50_64'
            when history.latest_hpv_negative_date >= history.latest_test_date
                 and history.latest_hpv_negative_date >= {{ project_param('cervical_screening', 'hpv_negative_recall_from', 'date') }}
                then 'hpv_negative_5_year_recall'
            else 'aged_25_49'
        end as interval_basis
    from population
    left join ages_next_invitation on ages_next_invitation.pseudo_id = population.pseudo_id
    left join history on history.pseudo_id = population.pseudo_id
),

rule_has_cervix as (
    select
        pseudo_id,
        'has_cervix' as rule_id,
        'inclusion' as rule_kind,
        case when sex = 'F' then 'Registered female, cervix not recorded as removed'
             else 'Registered ' || case when sex = 'M' then 'male' else 'sex unknown' end
                  || ' with a cervix on record (test, cervix-retaining procedure or cervix-present code)' end
            as rule_description,
        case when sex = 'F' then cervix_removed_date else cervix_evidence_date end as evidence_date,
        sex as evidence_value
    from people
    where has_cervix
),

rule_age_in_range as (
    select
        pseudo_id,
        'age_in_range' as rule_id,
        'inclusion' as rule_kind,
        'Aged 24.5 to ' || {{ project_param('cervical_screening', 'max_age', 'integer') }}
            || ' to the day (invited from 6 months before the 25th birthday)' as rule_description,
        cast(null as date) as evidence_date,
        cast(age as varchar) as evidence_value
    from people
    where age_at_next_invitation >= {{ project_param('cervical_screening', 'min_age', 'integer') }}
      and age <= {{ project_param('cervical_screening', 'max_age', 'integer') }}
),

rule_overdue as (
    select
        pseudo_id,
        'overdue' as rule_id,
        'inclusion' as rule_kind,
        'No adequate cervical screening test in the last ' || interval_months || ' months' as rule_description,
        latest_test_date as evidence_date,
        case when latest_test_date is null then 'no test on record' else 'last adequate test ' || latest_test_date end
            as evidence_value
    from people
    where latest_test_date is null
       or latest_test_date <= {{ reference_date() }} - to_months(interval_months)
),

-- which recall interval applies to the person (evidence, counted in the rule coverage:
-- the July 2025 5-year recall applies to people tested since then, who are not yet due)
evidence_recall_interval as (
    select
        pseudo_id,
        'recall_interval:' || interval_basis as rule_id,
        'evidence' as rule_kind,
        case interval_basis
            when 'hpv_positive_early_recall' then 'HPV-positive at the latest test: 12-month early recall'
            when 'aged_50_64' then 'Aged 50-64: adequate test within 5.5 years (QOF CS006)'
            when 'hpv_negative_5_year_recall' then 'HPV-negative test since July 2025: 5-year recall (5.5-year window)'
            else 'Aged 25-49: adequate test within 3.5 years (QOF CS005)' end as rule_description,
        latest_test_date as evidence_date,
        cast(interval_months as varchar) as evidence_value
    from people
    where age_at_next_invitation >= {{ project_param('cervical_screening', 'min_age', 'integer') }}
      and age <= {{ project_param('cervical_screening', 'max_age', 'integer') }}
),

excluded_ceased as (
    select
        pseudo_id,
        'ceased' as rule_id,
        'exclusion' as rule_kind,
        'Ceased from screening (not indicated / no uterus) with no later test' as rule_description,
        ceased_date as evidence_date,
        cast(null as varchar) as evidence_value
    from people
    where is_ceased
),

excluded_declined as (
    select
        pseudo_id,
        'declined' as rule_id,
        'exclusion' as rule_kind,
        'Declined screening after the latest test, within the ' || interval_months || '-month window' as rule_description,
        declined_date as evidence_date,
        cast(null as varchar) as evidence_value
    from people
    where declined_date is not null
      and (latest_test_date is null or declined_date >= latest_test_date)
      and declined_date > {{ reference_date() }} - to_months(interval_months)
),

excluded_cervix_removed as (
    select
        pseudo_id,
        'cervix_removed' as rule_id,
        'exclusion' as rule_kind,
        'Cervix removed (total or radical hysterectomy, excision of the cervix)' as rule_description,
        cervix_removed_date as evidence_date,
        cast(null as varchar) as evidence_value
    from people
    where cervix_removed
),

evidence_history as (
    select
        pseudo_id,
        case when latest_test_date is null then 'history:never_screened' else 'history:lapsed' end as rule_id,
        'evidence' as rule_kind,
        case when latest_test_date is null then 'No adequate test anywhere in the record'
             else 'Screened before, now overdue' end as rule_description,
        latest_test_date as evidence_date,
        cast(null as varchar) as evidence_value
    from people
)

select * from rule_has_cervix
union all select * from rule_age_in_range
union all select * from rule_overdue
union all select * from evidence_recall_interval
union all select * from excluded_ceased
union all select * from excluded_declined
union all select * from excluded_cervix_removed
union all select * from evidence_history
