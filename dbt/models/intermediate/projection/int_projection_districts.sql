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
