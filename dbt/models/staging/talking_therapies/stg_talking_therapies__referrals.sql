-- NHS Talking Therapies referrals: latest version of each referral on or before the reference date.
with referrals as (
    {{ published_increment('talking_therapies', 'referrals', ['referral_id']) }}
),

keys as (
    select record_id, pseudo_id
    from {{ ref('stg_identity__pseudo_keys') }}
    where source_name = 'talking_therapies' and table_name = 'referrals'
)

select
    referrals.referral_id,
    keys.pseudo_id,
    referrals.referral_date,
    referrals.referral_source,
    referrals.presenting_problem,
    referrals.first_treatment_date,
    referrals.discharge_date,
    case referrals.recovered when 'Y' then true when 'N' then false end as is_recovered,
    referrals.extract_date
from referrals
left join keys on keys.record_id = referrals.referral_id
