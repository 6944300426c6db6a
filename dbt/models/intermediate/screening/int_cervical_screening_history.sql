-- Each living registered person's cervical screening history and whether they have a
-- cervix, as of the reference date: defined once for the cervical screening cohort
-- (int_cohort_cervical_screening_rules) and the coverage measure (int_programme_uptake).
--
-- Sources (checked 2026-11): NHS Cervical Screening Programme (NHSCSP) guidance; NHSCSP
-- ceasing guidance (ceasing needs the cervix removed or a recorded ceasing decision;
-- subtotal hysterectomy and local excision such as LLETZ or cone biopsy leave the cervix
-- and are followed by test of cure); NHSCSP 2025 opt-in for trans and non-binary people.
-- Code lists (seed codelist_local_codes, curated from the GM-SDE stand-ins with a reason per
-- concept in seed codelist_curation):
--   CS_TEST_COD          adequate tests and their results - status codes (due, overdue, not
--                        attended, declined, inadequate, technical failure, recall
--                        instructions) are not tests and never reset recall;
--   CS_HPVNEG_COD / CS_HPVPOS_COD  HPV result of a test;
--   CERVIX_REMOVED_COD   total/radical hysterectomy, excision of the cervix or stump;
--   CERVIX_RETAINED_COD  subtotal hysterectomy, LLETZ, cone biopsy, uterine surgery;
--   CERVIX_PRESENT_COD   "cervical smear to continue post hysterectomy";
--   CSPU_COD             screening not indicated / no uterus (ceased);
--   CSDEC_COD            screening declined.
-- has_cervix: registered female and no cervix-removing procedure (or cervix evidence - a
--   test, a cervix-retaining procedure or the cervix-present code - after it); or
--   registered male / unknown with cervix evidence not followed by a cervix-removing
--   procedure (trans men and non-binary people keep their recall).
-- cervix_removed: a cervix-removing procedure with no cervix evidence after it.
-- is_ceased: CSPU_COD not followed by a later adequate test.
with people as (
    select pseudo_id, sex from {{ ref('int_registered_people') }}
),

events as (
    select pseudo_id, cluster_id, event_date
    from ({{ get_observations(['CS_TEST_COD', 'CS_HPVNEG_COD', 'CS_HPVPOS_COD', 'CERVIX_REMOVED_COD',
                               'CERVIX_RETAINED_COD', 'CERVIX_PRESENT_COD', 'CSPU_COD', 'CSDEC_COD']) }})
),

history as (
    select
        pseudo_id,
        max(event_date) filter (where cluster_id = 'CS_TEST_COD') as latest_test_date,
        max(event_date) filter (where cluster_id = 'CS_HPVNEG_COD') as latest_hpv_negative_date,
        max(event_date) filter (where cluster_id = 'CS_HPVPOS_COD') as latest_hpv_positive_date,
        max(event_date) filter (where cluster_id = 'CERVIX_REMOVED_COD') as cervix_removed_date,
        max(event_date) filter (where cluster_id in ('CS_TEST_COD', 'CERVIX_RETAINED_COD', 'CERVIX_PRESENT_COD'))
            as cervix_evidence_date,
        max(event_date) filter (where cluster_id = 'CSPU_COD') as ceased_date,
        max(event_date) filter (where cluster_id = 'CSDEC_COD') as declined_date
    from events
    group by pseudo_id
)

select
    people.pseudo_id,
    people.sex,
    history.latest_test_date,
    history.latest_hpv_negative_date,
    history.latest_hpv_positive_date,
    history.cervix_removed_date,
    history.cervix_evidence_date,
    history.ceased_date,
    history.declined_date,
    coalesce(
        (people.sex = 'F' and (history.cervix_removed_date is null
                               or history.cervix_evidence_date > history.cervix_removed_date))
        or (people.sex <> 'F' and history.cervix_evidence_date is not null
            and (history.cervix_removed_date is null or history.cervix_evidence_date > history.cervix_removed_date)),
        false) as has_cervix,
    coalesce(history.cervix_removed_date is not null
             and (history.cervix_evidence_date is null or history.cervix_evidence_date <= history.cervix_removed_date),
             false) as cervix_removed,
    coalesce(history.ceased_date is not null
             and (history.latest_test_date is null or history.ceased_date >= history.latest_test_date),
             false) as is_ceased
from people
left join history on history.pseudo_id = people.pseudo_id
