-- Validation of the emergency admission risk model as a published model is validated
-- (TRIPOD: discrimination and calibration, out of time, against a simple comparator).
--
--   development   the window the coefficients are fitted on (int_risk_development:
--                 features 24 months before the reference date, admissions in the 12
--                 months after); apparent performance.
--   time_split    out of time (int_risk_backtest): features 12 months before the
--                 reference date, the same coefficients, the admissions of the 12 months
--                 up to the reference date - nothing of this window was used to fit.
--
-- Columns: n people, events = people with >= 1 emergency admission in the 12 months;
-- auc = area under the ROC curve of the predicted probability for that event (with a
-- Hanley-McNeil 95% CI); auc_age_only = the same for the comparator, an age band x sex
-- model fitted on the development window (its Poisson MLE is the observed rate in each
-- cell); brier = mean squared error of the predicted probability (and of the
-- comparator's); observed_expected = observed / predicted admissions. Calibration by
-- tenth of predicted risk: mart_risk_calibration.
{% set windows = {'development': 'int_risk_development', 'time_split': 'int_risk_backtest'} %}
with age_sex_rates as (
    select risk_age_band, sex, avg(observed_emergency_admissions_12m) as rate
    from {{ ref('int_risk_development') }}
    group by risk_age_band, sex
),

overall_rate as (
    select avg(observed_emergency_admissions_12m) as rate from {{ ref('int_risk_development') }}
),

{% for evaluation, model in windows.items() %}
scored_{{ evaluation }} as (
    select
        window_rows.as_of_date,
        window_rows.expected_emergency_admissions_12m as expected,
        window_rows.risk_probability as probability,
        coalesce(age_sex_rates.rate, overall_rate.rate) as expected_age_only,
        1 - exp(-coalesce(age_sex_rates.rate, overall_rate.rate)) as probability_age_only,
        window_rows.observed_emergency_admissions_12m as observed,
        window_rows.observed_emergency_admissions_12m > 0 as is_event
    from {{ ref(model) }} as window_rows
    cross join overall_rate
    left join age_sex_rates
        on age_sex_rates.risk_age_band = window_rows.risk_age_band and age_sex_rates.sex = window_rows.sex
),

summary_{{ evaluation }} as (
    select
        '{{ evaluation }}' as evaluation,
        min(as_of_date) as features_as_of,
        count(*) as n,
        count(*) filter (where is_event) as events,
        {{ auc('scored_' ~ evaluation, 'probability', 'is_event') }} as auc,
        {{ auc('scored_' ~ evaluation, 'probability_age_only', 'is_event') }} as auc_age_only,
        avg(power(probability - is_event::int, 2)) as brier,
        avg(power(probability_age_only - is_event::int, 2)) as brier_age_only,
        sum(observed) / nullif(sum(expected), 0) as observed_expected,
        sum(observed) / nullif(sum(expected_age_only), 0) as observed_expected_age_only
    from scored_{{ evaluation }}
){% if not loop.last %},{% endif %}
{% endfor %}
,

summaries as (
    {% for evaluation in windows %}
    select * from summary_{{ evaluation }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

with_se as (
    select
        *,
        -- Hanley JA, McNeil BJ. Radiology 1982;143:29-36
        sqrt((auc * (1 - auc)
              + (events - 1) * (auc / (2 - auc) - auc * auc)
              + (n - events - 1) * (2 * auc * auc / (1 + auc) - auc * auc))
             / nullif(events * (n - events), 0)) as auc_se
    from summaries
)

select
    evaluation,
    features_as_of,
    features_as_of + to_months({{ param('activity_lookback_months', 'integer') }}) as outcome_window_end,
    n,
    events,
    round(auc, 4) as auc,
    round(auc - 1.96 * auc_se, 4) as auc_ci_lower,
    round(auc + 1.96 * auc_se, 4) as auc_ci_upper,
    round(auc_age_only, 4) as auc_age_only,
    round(brier, 5) as brier,
    round(brier_age_only, 5) as brier_age_only,
    round(observed_expected, 3) as observed_expected,
    round(observed_expected_age_only, 3) as observed_expected_age_only,
    auc > auc_age_only as beats_age_only,
    {{ reference_date() }} as reference_date
from with_se
