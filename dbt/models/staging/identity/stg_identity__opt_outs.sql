-- People with a national data opt-out (pseudo_id only; the NHS numbers stay in the identity zone).
select distinct pseudo_id
from {{ source('identity', 'opt_outs') }}
where pseudo_id is not null
