{{ config(severity="warn", meta={"dagster": {"asset_key": ["warehouse", "mart_risk_calibration"]}}) }}
-- The risk model's total predicted emergency admissions on the back-test are within 20% of
-- those observed (warns: a drift to re-fit the coefficients with
-- dagster_project/warehouse/calibration.py).
select sum(predicted_admissions) as predicted, sum(observed_admissions) as observed
from {{ ref('mart_risk_calibration') }}
having sum(observed_admissions) > 0
   and abs(sum(observed_admissions) / nullif(sum(predicted_admissions), 0) - 1) > 0.2
