-- Hospital activity per person in the 12 months up to the reference date
-- (activity_date in (reference date - 12 months, reference date]; window from seed
-- rule_parameters.activity_lookback_months), plus emergency activity in the shorter
-- acute look-back used by the segmentation ("acutely ill").
with activity as (
    select * from {{ ref('int_hospital_activity_all') }}
    where activity_date > {{ months_before(reference_date(), 'activity_lookback_months') }}
)

select
    pseudo_id,
    count(*) filter (where activity_type = 'emergency_admission') as emergency_admissions_12m,
    count(*) filter (where activity_type = 'elective_admission') as elective_admissions_12m,
    count(*) filter (where activity_type = 'ae_attendance') as ae_attendances_12m,
    count(*) filter (where activity_type = 'outpatient_dna') as outpatient_dnas_12m,
    count(*) filter (where activity_type = 'outpatient_attended') as outpatient_attendances_12m,
    count(*) filter (
        where activity_type in ('emergency_admission', 'ae_attendance')
          and activity_date > {{ months_before(reference_date(), 'acute_lookback_months') }}
    ) as emergency_contacts_acute_window,
    max(activity_date) filter (where activity_type = 'emergency_admission') as latest_emergency_admission_date
from activity
group by pseudo_id
