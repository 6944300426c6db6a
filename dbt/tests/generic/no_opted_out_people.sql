{#-
  Governance invariant for Protect NoW cohorts: no row of the model belongs to a person with
  a national data opt-out (stg_identity__opt_outs, from the identity zone) or a Type 1
  opt-out (GP dissent code, int_observations_latest), and every row is a living registered
  person on the reference date (dim_person). Returns the offending pseudo ids.
-#}
{% test no_opted_out_people(model, column_name='pseudo_id') %}
select {{ column_name }} as pseudo_id, 'national data opt-out' as problem
from {{ model }}
where {{ column_name }} in (select pseudo_id from {{ ref('stg_identity__opt_outs') }})
union all
select {{ column_name }}, 'Type 1 opt-out'
from {{ model }}
where {{ column_name }} in (
    select pseudo_id from {{ ref('int_observations_latest') }} where type1_opt_out_date is not null)
union all
select {{ column_name }}, 'not a living registered person on the reference date'
from {{ model }}
where {{ column_name }} not in (select pseudo_id from {{ ref('dim_person') }})
{% endtest %}
