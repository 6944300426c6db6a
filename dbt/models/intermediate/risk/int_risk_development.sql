-- The risk model's development window: the population registered and alive 24 months
-- before the reference date, with the features they had then and the emergency
-- admissions they had in the following 12 months (ending 12 months before the reference
-- date). The coefficients (seed risk_coefficients) are fitted on this window by the
-- Dagster asset warehouse/risk_coefficients_refit (dagster_project/warehouse/
-- calibration.py) and evaluated out of time on int_risk_backtest, a year later.
-- Macro risk_window.
{{ risk_window("(" ~ reference_date() ~ " - to_months(2 * " ~ param('activity_lookback_months', 'integer') ~ "))") }}
