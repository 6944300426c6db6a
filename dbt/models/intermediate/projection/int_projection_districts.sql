-- The district (local authority district) of each LSOA, as the projection uses it: the
-- 2019 LAD of the LSOA (MHCLG IMD 2019 file, seed imd2019_lsoa), except that the former
-- Waveney district's LSOAs (2011 LSOA names "Waveney ...", now in East Suffolk, whose
-- other part lies outside the ICS) are labelled "East Suffolk (Waveney part)".
select
    lsoa11cd as lsoa_code,
    lad19cd as district_code,
    case when lsoa11nm like 'Waveney %' then 'East Suffolk (Waveney part)' else lad19nm end as district_name,
    cast(ceil(imd_decile / 2) as integer) as imd_quintile
from {{ ref('imd2019_lsoa') }}
-- only the ICS's districts (the seed of published growth names them): the IMD file covers all
-- of England, and its other districts' names are not this warehouse's business
where lad19cd in (select lad19cd from {{ ref('projection_district_growth') }})
  and (lad19cd <> 'E07000244' or lsoa11nm like 'Waveney %')
