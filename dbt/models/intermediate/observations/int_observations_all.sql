-- Every coded observation of a measure named in seed observation_definitions, on or before
-- the reference date: HbA1c, BMI, blood pressure, eFI score (values); smoking status,
-- frailty severity, care home, pregnancy, palliative care, falls, Type 1 opt-out (status codes).
-- Value measures need a recorded value; status measures carry the status the code means.
with definitions as (
    select * from {{ ref('observation_definitions') }}
),

observations as (
    {{ get_observations("select cluster_id from " ~ ref('observation_definitions')) }}
)

select
    observations.pseudo_id,
    definitions.measure,
    observations.event_date,
    observations.snomed_code,
    observations.cluster_id,
    case when definitions.value_kind = 'value' then observations.value end as value,
    observations.unit,
    definitions.status_value,
    definitions.priority
from observations
inner join definitions on definitions.cluster_id = observations.cluster_id
where observations.pseudo_id is not null
  and (definitions.value_kind = 'status' or observations.value is not null)
