-- Calibration by tenth of predicted risk, out of time: the evaluation window
-- (int_risk_backtest: registered and alive a year before the reference date, scored with
-- the features they had then and the coefficients fitted on the window a year before
-- that) with predicted and observed emergency admissions in the 12 months since. A
-- well-calibrated model has observed / predicted near 1 in every decile. Summary
-- measures (AUC, Brier, O/E, the age-and-sex comparator): mart_risk_validation.
with backtest as (
    select
        *,
        ntile(10) over (order by expected_emergency_admissions_12m, pseudo_id) as risk_decile
    from {{ ref('int_risk_backtest') }}
)

select
    'time_split' as evaluation,
    risk_decile,
    count(*) as people,
    round(sum(expected_emergency_admissions_12m), 1) as predicted_admissions,
    cast(sum(observed_emergency_admissions_12m) as bigint) as observed_admissions,
    round(sum(observed_emergency_admissions_12m) / nullif(sum(expected_emergency_admissions_12m), 0), 3)
        as observed_to_predicted,
    round(avg(risk_probability), 4) as mean_predicted_probability,
    round(avg(case when observed_emergency_admissions_12m > 0 then 1.0 else 0.0 end), 4)
        as observed_share_admitted,
    {{ reference_date() }} as reference_date
from backtest
group by risk_decile
