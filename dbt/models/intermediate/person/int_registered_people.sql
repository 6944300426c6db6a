-- One row per living registered person on the reference date (int_registration_current),
-- whatever their opt-outs (direct-care rule coverage needs them; dim_person applies the
-- national data opt-out policy for the indirect-care marts),
-- with what analysts stratify by. Age in completed years from birth_month with macro
-- age_at (see its note on the birth month); IMD 2019 of the person's LSOA (MHCLG; decile 1
-- = most deprived 10% nationally); quintile = ceil(decile / 2); Core20 = IMD deciles 1-2
-- (NHS England Core20PLUS5). National data opt-out from the identity zone; Type 1 opt-out
-- from the latest GP dissent code.
with registration as (
    select * from {{ ref('int_registration_current') }}
),

attributes as (
    select * from {{ ref('int_person_attributes') }}
),

practices as (
    select * from {{ ref('stg_reference__practices') }}
),

ethnicity as (
    select code, group_16, group_6 from {{ ref('ethnicity_codes') }}
),

imd as (
    select lsoa11cd, imd_decile from {{ ref('imd2019_lsoa') }}
),

age_bands as (
    select * from {{ ref('age_bands') }}
),

national_opt_outs as (
    select pseudo_id from {{ ref('stg_identity__opt_outs') }}
),

type1_opt_outs as (
    select pseudo_id from {{ ref('int_observations_latest') }}
    where type1_opt_out_date is not null
),

people as (
    select
        registration.pseudo_id,
        attributes.birth_month,
        {{ age_at('attributes.birth_month', reference_date()) }} as age,
        attributes.sex,
        attributes.ethnicity_code,
        attributes.lsoa_code,
        registration.practice_code,
        registration.registration_start_date,
        registration.has_moved_practice
    from registration
    inner join attributes on attributes.pseudo_id = registration.pseudo_id
)

select
    people.pseudo_id,
    people.birth_month,
    people.age,
    age_bands.age_band,
    people.sex,
    coalesce(ethnicity.group_6, 'Not stated') as ethnicity_group,
    coalesce(ethnicity.group_16, 'Not stated') as ethnicity_group_16,
    people.practice_code,
    practices.practice_name,
    practices.pcn_code,
    practices.pcn_name,
    people.lsoa_code,
    imd.imd_decile,
    cast(ceil(imd.imd_decile / 2) as integer) as imd_quintile,
    coalesce(imd.imd_decile <= 2, false) as is_core20,
    national_opt_outs.pseudo_id is not null as has_national_data_opt_out,
    type1_opt_outs.pseudo_id is not null as has_type1_opt_out,
    people.registration_start_date,
    coalesce(people.has_moved_practice, false) as has_moved_practice,
    {{ reference_date() }} as reference_date
from people
left join age_bands on people.age between age_bands.min_age and age_bands.max_age
left join practices on practices.practice_code = people.practice_code
left join ethnicity on ethnicity.code = people.ethnicity_code
left join imd on imd.lsoa11cd = people.lsoa_code
left join national_opt_outs on national_opt_outs.pseudo_id = people.pseudo_id
left join type1_opt_outs on type1_opt_outs.pseudo_id = people.pseudo_id
