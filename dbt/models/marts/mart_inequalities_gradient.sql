-- The social gradient of each measure across IMD deciles: the slope index of inequality
-- (SII) and the relative index of inequality (RII), as OHID (PHE) computes them
-- (PHEindicatormethods::phe_sii; Low A, Low A. J Epidemiol Community Health 2004):
--
--   - each decile's age-standardised rate (mart_inequalities, dimension imd_decile);
--   - deciles ordered from 1 (most deprived) to 10 (least deprived), each at the midpoint of
--     its range in the cumulative distribution of the measure's eligible population
--     (relative rank x in [0, 1]);
--   - weighted least squares of the rate on x, weights = decile populations;
--   - sii = the fitted value at x = 1 (least deprived) less that at x = 0 (most deprived):
--     positive = higher in less deprived areas (for uptake, the deprived are left behind;
--     for prevalence, more illness in less deprived areas);
--   - rii = sii / the mean rate (population-weighted), the gap relative to the average;
--   - 95% CIs from the sampling variance of the WLS slope given the deciles' standard
--     errors, var(sii) = sum(w_i^2 (x_i - xbar)^2 se_i^2) / (sum w_i (x_i - xbar)^2)^2
--     (OHID uses simulation; with ten deciles the two agree closely); rii's CI is sii's over
--     the mean.
-- A measure without an age-standardised rate in every decile has no row.
with deciles as (
    select
        measure,
        cast("group" as integer) as imd_decile,
        denominator,
        age_standardised_rate as rate,
        age_standardised_rate_se as se
    from {{ ref('mart_inequalities') }}
    where dimension = 'imd_decile' and "group" != 'unknown'
),

complete as (
    select measure
    from deciles
    group by measure
    having count(*) = 10 and count(rate) = 10
),

ranked as (
    select
        deciles.*,
        (sum(denominator) over (partition by deciles.measure order by imd_decile rows unbounded preceding)
         - denominator / 2.0) / sum(denominator) over (partition by deciles.measure) as relative_rank
    from deciles
    inner join complete on complete.measure = deciles.measure
),

means as (
    select
        measure,
        sum(denominator * relative_rank) / sum(denominator) as mean_rank,
        sum(denominator * rate) / sum(denominator) as mean_rate,
        sum(denominator) as population
    from ranked
    group by measure
),

fit as (
    select
        ranked.measure,
        means.mean_rate,
        means.population,
        sum(ranked.denominator * (ranked.relative_rank - means.mean_rank) * (ranked.rate - means.mean_rate))
            / sum(ranked.denominator * power(ranked.relative_rank - means.mean_rank, 2)) as sii,
        sqrt(sum(power(ranked.denominator * (ranked.relative_rank - means.mean_rank), 2) * power(ranked.se, 2)))
            / sum(ranked.denominator * power(ranked.relative_rank - means.mean_rank, 2)) as sii_se,
        min(ranked.rate) filter (where ranked.imd_decile = 1) as most_deprived_decile_rate,
        min(ranked.rate) filter (where ranked.imd_decile = 10) as least_deprived_decile_rate
    from ranked
    inner join means on means.measure = ranked.measure
    group by ranked.measure, means.mean_rate, means.population
)

select
    measure,
    'imd_decile' as dimension,
    population,
    round(mean_rate, 5) as mean_rate,
    round(most_deprived_decile_rate, 5) as most_deprived_decile_rate,
    round(least_deprived_decile_rate, 5) as least_deprived_decile_rate,
    round(sii, 5) as sii,
    round(sii - 1.96 * sii_se, 5) as sii_ci_lower,
    round(sii + 1.96 * sii_se, 5) as sii_ci_upper,
    round(sii / nullif(mean_rate, 0), 4) as rii,
    round((sii - 1.96 * sii_se) / nullif(mean_rate, 0), 4) as rii_ci_lower,
    round((sii + 1.96 * sii_se) / nullif(mean_rate, 0), 4) as rii_ci_upper,
    {{ reference_date() }} as reference_date
from fit
