{{ config(schema='intermediate') }}
-- Who any Protect NoW cohort may contain, as of the reference date: the living registered
-- population less everyone with an opt-out. The opt-outs are defined once, in
-- int_registered_people (flags read here from dim_person, whatever dim_person's
-- indirect-care opt-out policy):
--   national data opt-out  has_national_data_opt_out (pseudo ids from the identity zone:
--                          any of the person's linked records carries an NHS number on the
--                          national list);
--   Type 1 opt-out         has_type1_opt_out: the GP dissent code (int_observations_latest,
--                          TYPE1_OPTOUT_COD, 827241000000103). A later "dissent withdrawn"
--                          code would lift it (as GP systems behave; CLINICAL_RULES
--                          "Opt-outs"), but no public source for that concept id was found,
--                          so the withdrawal rule is switched off (seed project_rules:
--                          type1_dissent_withdrawn) and every dissent is honoured - the safe
--                          side for an opt-out.
-- A person who moved practice is counted at the new practice (dim_person).
-- `age` is the exact age to the day on the reference date (int_person_ages), not the
-- birth-month approximation of dim_person.
with people as (
    select * from {{ ref('dim_person') }}
),

ages as (
    select pseudo_id, age_years, age_months from {{ ref('int_person_ages') }}
    where on_date = {{ reference_date() }}
)

select
    people.pseudo_id,
    people.birth_month,
    coalesce(ages.age_years, people.age) as age,
    coalesce(ages.age_months, people.age * 12) as age_months,
    people.age_band,
    people.sex,
    people.ethnicity_group,
    people.practice_code,
    people.pcn_code,
    people.imd_quintile,
    people.is_core20,
    {{ reference_date() }} as reference_date
from people
left join ages on ages.pseudo_id = people.pseudo_id
where not people.has_national_data_opt_out
  and not people.has_type1_opt_out
