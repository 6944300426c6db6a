-- The projection's starting population: living registered people on the reference date
-- (dim_person) counted by district, PCN, IMD 2019 quintile, sex and single year of age
-- (100 = 100 and over). People of unknown sex (U) cannot be projected by sex-specific
-- rates and are left out (the projection report states how many).
with people as (
    select
        person.pseudo_id,
        person.sex,
        least(person.age, 100) as age,
        coalesce(person.pcn_code, 'unknown') as pcn_code,
        coalesce(person.pcn_name, 'Unknown PCN') as pcn_name,
        coalesce(districts.district_code, 'unknown') as district_code,
        coalesce(districts.district_name, 'Unknown district') as district_name,
        coalesce(person.imd_quintile, 0) as imd_quintile,
        person.reference_date
    from {{ ref('dim_person') }} as person
    left join {{ ref('int_projection_districts') }} as districts
        on districts.lsoa_code = person.lsoa_code
)

select
    district_code,
    district_name,
    pcn_code,
    pcn_name,
    imd_quintile,
    sex,
    age,
    count(*) as people,
    any_value(reference_date) as reference_date
from people
where sex in ('F', 'M')
group by all
