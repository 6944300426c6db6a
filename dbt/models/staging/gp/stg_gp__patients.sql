-- GP patient records (newest snapshot on or before the reference date), identifiers removed:
-- date of birth -> birth_month (first of the month); no names, NHS number, postcode,
-- phone or e-mail; the practice's patient_id -> pseudo_id and a keyed record key (HMAC, identity zone).
with patients as (
    {{ published_snapshot('gp', 'patients') }}
),

keys as (
    select practice_code, record_id, pseudo_id, record_key
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'gp' and table_name = 'patients'
)

select
    keys.pseudo_id,
    keys.record_key as gp_record_key,
    patients.practice_code,
    cast(date_trunc('month', patients.date_of_birth) as date) as birth_month,
    upper(patients.sex) as sex,
    patients.ethnicity_code,
    patients.lsoa11cd as lsoa_code,
    patients.date_of_death,
    patients.extract_date
from patients
left join keys
    on keys.practice_code = patients.practice_code
    and keys.record_id = patients.patient_id
