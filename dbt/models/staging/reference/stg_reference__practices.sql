-- GP practices and their PCN (newest snapshot on or before the reference date); the
-- practice postcode is not carried (the warehouse holds no postcodes).
with practices as (
    {{ published_snapshot('reference', 'practices') }}
)

select
    practice_code,
    practice_name,
    pcn_code,
    pcn_name,
    direct_care_approved = 'Y' as is_direct_care_approved,
    extract_date
from practices
