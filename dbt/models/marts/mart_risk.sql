-- Risk stratification of the living registered population as of the reference date.
--
-- Frailty (people 65+): eFI-style deficit count and score, and the fit / mild / moderate /
-- severe band (int_frailty; Clegg et al. Age Ageing 2016).
--
-- Emergency admission risk for the next 12 months: a transparent Poisson rate model
-- (macro risk_prediction):
--   log(expected admissions) = intercept + b[age band] + b[sex] + b[frailty band]
--                              + b[IMD quintile] + b_ltc * min(LTCs, 6)
--                              + b_prior * min(emergency admissions in last 12 months, 4)
--                              + b_palliative * (palliative care code in 12 months)
--   risk_probability = 1 - exp(-expected admissions)
-- The model's frailty term is frailty calibrated within the period (the 65+ ranked by
-- frailty evidence, cut at the eFI population shares; macro risk_features_as_of), not
-- the clinical frailty_band, because frailty coding matures year on year.
-- Coefficients (seed risk_coefficients) are fitted on the development window
-- (int_risk_development: features two years ago, admissions in the year after) by the
-- asset warehouse/risk_coefficients_refit (dagster_project/warehouse/calibration.py),
-- never by hand; mart_risk_validation evaluates them out of time against an age-and-sex
-- model, mart_risk_calibration by decile.
-- risk_decile: 10 = the highest tenth of expected admissions. risk_tier from the
-- probability: very high >= 0.40, high >= 0.20, moderate >= 0.10, else low (seed
-- rule_parameters).
with features as (
    select * from {{ ref('int_risk_features') }}
),

predicted as (
    {{ risk_prediction('features') }}
),

frailty as (
    select * from {{ ref('int_frailty') }}
)

select
    predicted.pseudo_id,
    predicted.age,
    frailty.efi_deficit_count,
    round(frailty.efi_style_score, 3) as efi_style_score,
    frailty.coded_frailty_band,
    frailty.frailty_band,
    predicted.risk_age_band,
    predicted.sex,
    predicted.risk_frailty_band,
    predicted.imd_quintile_level,
    predicted.ltc_count,
    predicted.prior_emergency_admissions,
    predicted.palliative_care,
    predicted.linear_predictor,
    predicted.expected_emergency_admissions_12m,
    predicted.risk_probability,
    ntile(10) over (order by predicted.expected_emergency_admissions_12m, predicted.pseudo_id) as risk_decile,
    case
        when predicted.risk_probability >= {{ param('risk_tier_very_high') }} then 'very high'
        when predicted.risk_probability >= {{ param('risk_tier_high') }} then 'high'
        when predicted.risk_probability >= {{ param('risk_tier_moderate') }} then 'moderate'
        else 'low'
    end as risk_tier,
    {{ reference_date() }} as reference_date
from predicted
left join frailty on frailty.pseudo_id = predicted.pseudo_id
