-- Long-term conditions of living registered people, long form: one row per person and
-- condition on a QOF-style register (int_condition_register; rules cited there and in
-- seed register_rules), with the Cambridge Multimorbidity Score weight of the condition
-- (Payne et al. CMAJ 2020, general outcome; seed cms_weights).
with registers as (
    select * from {{ ref('int_condition_register') }}
),

people as (
    select pseudo_id from {{ ref('dim_person') }}
),

weights as (
    select condition, cms_component, weight from {{ ref('cms_weights') }}
)

select
    registers.pseudo_id,
    registers.condition,
    registers.condition_label,
    registers.first_diagnosis_date,
    registers.latest_diagnosis_date,
    registers.counts_as_ltc,
    weights.cms_component,
    weights.weight as cms_weight,
    {{ reference_date() }} as reference_date
from registers
inner join people on people.pseudo_id = registers.pseudo_id
left join weights on weights.condition = registers.condition
