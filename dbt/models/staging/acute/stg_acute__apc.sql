-- Admitted patient care spells: every extract on or before the reference date, latest
-- version of each spell; identity fields dropped, spell -> pseudo_id.
with spells as (
    {{ published_increment('acute', 'apc', ['spell_id']) }}
),

keys as (
    select record_id, pseudo_id
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'acute' and table_name = 'apc'
)

select
    spells.spell_id,
    keys.pseudo_id,
    spells.provider_code,
    spells.admission_date,
    spells.discharge_date,
    spells.admission_method as admission_method_code,
    spells.primary_diagnosis_icd10 as primary_diagnosis_code,
    spells.extract_date
from spells
left join keys on keys.record_id = spells.spell_id
