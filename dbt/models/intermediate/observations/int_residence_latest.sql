-- The latest residence code per person, as of the reference date, and whether it says the
-- person lives in a long-stay care home. PRIMIS (flu and COVID-19 specifications, LONGRES):
-- a person is a long-stay care home resident when their latest residential status code is
-- a care home code - so a later "lives in own home" (someone who moved out) ends it and a
-- long-stay resident with an old code stays in (no look-back window).
-- Residence codes: PRIMIS RESIDE_COD (own home, rented, sheltered, care home, hostel...),
-- PRIMIS LONGRES_COD and PCD CAREHOME_COD. Long-stay care home: LONGRES_COD or CAREHOME_COD,
-- except "living temporarily in care home" (TEMPCARHOME_COD). Same-day ties: the care home
-- code wins (the more specific statement).
with residence as (
    select pseudo_id, event_date, snomed_code, cluster_id
    from ({{ get_observations(['RESIDE_COD', 'LONGRES_COD', 'CAREHOME_COD']) }})
),

care_home_codes as (
    select distinct code from {{ ref('int_codelist_codes') }}
    where cluster_id in ('LONGRES_COD', 'CAREHOME_COD')
      and code not in (select code from {{ ref('int_codelist_codes') }} where cluster_id = 'TEMPCARHOME_COD')
),

latest as (
    select
        residence.pseudo_id,
        residence.event_date,
        residence.snomed_code,
        residence.snomed_code in (select code from care_home_codes) as is_care_home
    from residence
    qualify row_number() over (
        partition by residence.pseudo_id
        order by residence.event_date desc, (residence.snomed_code in (select code from care_home_codes)) desc,
                 residence.snomed_code) = 1
)

select
    pseudo_id,
    event_date as residence_code_date,
    snomed_code as residence_code,
    is_care_home as lives_in_care_home
from latest
