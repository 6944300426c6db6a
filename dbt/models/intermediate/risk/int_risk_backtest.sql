-- The risk model's out-of-time evaluation window: the population registered and alive
-- 12 months before the reference date, scored with the features they had then (the
-- same macros as mart_risk) and the coefficients fitted on the window a year earlier
-- (int_risk_development), against the emergency admissions they actually had in the 12
-- months since (including those who have died since). Feeds mart_risk_validation and
-- mart_risk_calibration. Macro risk_window.
{{ risk_window("(" ~ reference_date() ~ " - to_months(" ~ param('activity_lookback_months', 'integer') ~ "))") }}
