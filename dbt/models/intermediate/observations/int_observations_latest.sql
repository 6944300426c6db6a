-- Latest value of each measure per person, as of the reference date (one row per person
-- with any observation). On the same day, the status of higher priority wins (for smoking:
-- current over ex over never, as QOF SMOK rules read the latest code; for frailty: severe
-- over moderate over mild).
-- Care home residence is not a column here: int_residence_latest (the latest residence code,
-- PRIMIS LONGRES rule) is its one definition.
with observations as (
    select * from {{ ref('int_observations_all') }}
),

latest as (
    select *
    from observations
    qualify row_number() over (
        partition by pseudo_id, measure
        order by event_date desc, priority, value desc nulls last, snomed_code
    ) = 1
)

select
    pseudo_id,
    max(case when measure = 'hba1c' then value end) as hba1c_mmol_mol,
    max(case when measure = 'hba1c' then event_date end) as hba1c_date,
    max(case when measure = 'bmi' then value end) as bmi,
    max(case when measure = 'bmi' then event_date end) as bmi_date,
    max(case when measure = 'systolic_bp' then value end) as systolic_bp_mmhg,
    max(case when measure = 'systolic_bp' then event_date end) as systolic_bp_date,
    max(case when measure = 'diastolic_bp' then value end) as diastolic_bp_mmhg,
    max(case when measure = 'diastolic_bp' then event_date end) as diastolic_bp_date,
    max(case when measure = 'smoking_status' then status_value end) as smoking_status,
    max(case when measure = 'smoking_status' then event_date end) as smoking_status_date,
    max(case when measure = 'efi_score' then value end) as efi_score_recorded,
    max(case when measure = 'efi_score' then event_date end) as efi_score_date,
    max(case when measure = 'frailty_code' then status_value end) as frailty_code_severity,
    max(case when measure = 'frailty_code' then event_date end) as frailty_code_date,
    max(case when measure = 'pregnancy' then event_date end) as pregnancy_code_date,
    max(case when measure = 'palliative_care' then status_value end) as palliative_care_status,
    max(case when measure = 'palliative_care' then event_date end) as palliative_care_date,
    max(case when measure = 'falls' then event_date end) as falls_code_date,
    max(case when measure = 'type1_opt_out' then event_date end) as type1_opt_out_date
from latest
group by pseudo_id
