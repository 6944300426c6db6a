"""Cohort-component population projection: ageing, births, deaths and net migration.

Pure functions over numpy arrays; no I/O. A population is an array of shape
(areas, 2, AGES): area (any set of cells: district, PCN, deprivation quintile), sex
(0 = female, 1 = male) and single year of age 0..MAX_AGE, the last age open-ended
(MAX_AGE and over).

One projection year (t -> t+1), the standard single-year cohort-component step (as in
ONS subnational projections, simplified):

1. deaths and ageing: everyone aged a survives the year with probability 1 - q(a, sex)
   and is then aged a + 1; survivors of MAX_AGE - 1 and MAX_AGE stay in MAX_AGE+;
2. births: sum over women of ASFR(a) x women aged a at the start of the year, split by
   the sex ratio at birth; a birth survives to the end of its first year with 1 - q(0);
3. net migration: the survived population (newborns included) is scaled by 1 + m(area),
   m being the area's net migration rate (net migrants / population). Spreading net
   migrants in proportion to the population (no age profile of migrants) is a
   simplification; the rate is what reproduces the district's published growth.

Mortality improves by a constant proportion a year: q_t = q x (1 - improvement)^t, the
improvement tapering from age 90 to none at 110 as in ONS national projections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_AGE = 100
AGES = MAX_AGE + 1
FEMALE, MALE = 0, 1


@dataclass(frozen=True)
class Rates:
    """The published rates that drive a projection.

    qx: (2, AGES) probability of dying within a year at each age, by sex;
    asfr: (AGES,) live births per woman per year at each age;
    migration: (areas,) net migration per person per year for each area;
    male_births_share: share of births that are boys (ONS: ~105 boys per 100 girls);
    mortality_improvement: proportional fall in qx each projected year at ages up to 90,
        tapering linearly to none at 110 (as ONS national projections assume: the
        long-term rate applies at 0-90 and falls to 0% between 91 and 110).
    """

    qx: np.ndarray
    asfr: np.ndarray
    migration: np.ndarray
    male_births_share: float
    mortality_improvement: float = 0.0


def interpolate_log_linear(anchors: dict[int, float], ages: int = AGES) -> np.ndarray:
    """A rate at every single year of age from rates at anchor ages (log-linear between
    anchors, flat beyond the first and last): mortality rises roughly exponentially
    with age (Gompertz), so interpolating its logarithm is the natural choice."""
    if not anchors:
        raise ValueError("no anchor ages to interpolate from")
    xs = np.array(sorted(anchors), dtype=float)
    ys = np.log(np.array([anchors[int(x)] for x in xs], dtype=float))
    return np.exp(np.interp(np.arange(ages, dtype=float), xs, ys))


def improvement_by_age(rate: float) -> np.ndarray:
    """The annual mortality improvement at each age: `rate` up to 90, falling linearly to
    0 at 110 (ONS NPP mortality assumptions); the open age 100+ takes the rate at 100."""
    ages = np.arange(AGES, dtype=float)
    return rate * np.clip((110.0 - ages) / 20.0, 0.0, 1.0)


def improved_qx(rates: Rates, year_index: int) -> np.ndarray:
    """qx after `year_index` years of improvement."""
    factor = (1.0 - improvement_by_age(rates.mortality_improvement)) ** year_index
    return np.clip(rates.qx * factor[None, :], 0.0, 1.0)


def step(population: np.ndarray, rates: Rates, year_index: int = 0) -> np.ndarray:
    """The population one year later (see the module docstring for the order of events)."""
    if population.ndim != 3 or population.shape[1:] != (2, AGES):
        raise ValueError(f"population must have shape (areas, 2, {AGES}), got {population.shape}")
    qx = improved_qx(rates, year_index)
    survival = 1.0 - qx                                     # (2, AGES)
    survivors = population * survival[None, :, :]           # deaths during the year
    nxt = np.zeros_like(population, dtype=float)
    nxt[:, :, 1:] = survivors[:, :, :-1]                    # ageing
    nxt[:, :, MAX_AGE] += survivors[:, :, MAX_AGE]          # the open age group stays
    births = (population[:, FEMALE, :] * rates.asfr[None, :]).sum(axis=1)   # (areas,)
    nxt[:, MALE, 0] = births * rates.male_births_share * survival[MALE, 0]
    nxt[:, FEMALE, 0] = births * (1.0 - rates.male_births_share) * survival[FEMALE, 0]
    return nxt * (1.0 + rates.migration)[:, None, None]


def project(base: np.ndarray, rates: Rates, years: int) -> np.ndarray:
    """Populations for year 0 (the base) to `years`: shape (years + 1, areas, 2, AGES)."""
    out = np.empty((years + 1, *base.shape), dtype=float)
    out[0] = base
    for t in range(years):
        out[t + 1] = step(out[t], rates, t)
    return out


def components(population: np.ndarray, rates: Rates, year_index: int = 0) -> dict[str, np.ndarray]:
    """Births, deaths (infants born in the year included) and net migrants per area in one
    projection year: next total = now + births - deaths + net_migration."""
    qx = improved_qx(rates, year_index)
    births = (population[:, FEMALE, :] * rates.asfr[None, :]).sum(axis=1)
    infant_q = rates.male_births_share * qx[MALE, 0] + (1.0 - rates.male_births_share) * qx[FEMALE, 0]
    deaths = (population * qx[None, :, :]).sum(axis=(1, 2)) + births * infant_q
    nxt = step(population, rates, year_index)
    natural = population.sum(axis=(1, 2)) + births - deaths
    return {"births": births, "deaths": deaths, "net_migration": nxt.sum(axis=(1, 2)) - natural}


def migration_residual(population: np.ndarray, published_growth: np.ndarray, qx: np.ndarray,
                       asfr: np.ndarray, male_births_share: float) -> np.ndarray:
    """Net migration rate per area that makes the first projected year grow by the
    published annual growth rate: growth = natural change x (1 + m) - 1 solved for m,
    where natural change is the base population's own births less deaths under the
    published fertility and mortality (the residual method of population accounting)."""
    no_migration = Rates(qx=qx, asfr=asfr, migration=np.zeros(population.shape[0]),
                         male_births_share=male_births_share)
    natural = step(population, no_migration).sum(axis=(1, 2))
    now = population.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        m = now * (1.0 + published_growth) / natural - 1.0
    return np.where(natural > 0, m, 0.0)


def fertility_schedule(tfr: float, mean_age: float, sd: float, ages: int = AGES) -> np.ndarray:
    """Single-year age-specific fertility rates (births per woman) summing to `tfr`, with
    mean age at birth `mean_age` and spread `sd`: a normal schedule over the exact ages
    at mid-year (a + 0.5), restricted to ages 15-49 as ONS rates are; its centre is moved
    until the truncated schedule's mean is `mean_age`."""
    a = np.arange(ages, dtype=float) + 0.5
    inside = (a >= 15) & (a <= 50)
    centre = mean_age
    for _ in range(50):
        shape = np.where(inside, np.exp(-0.5 * ((a - centre) / sd) ** 2), 0.0)
        mean = float((shape * a).sum() / shape.sum())
        if abs(mean - mean_age) < 1e-9:
            break
        centre += mean_age - mean
    return tfr * shape / shape.sum()


def fit_fertility_sd(tfr: float, mean_age: float, band: tuple[int, int], band_rate: float) -> float:
    """The spread of the fertility schedule whose average rate over ages band[0]..band[1]
    equals `band_rate` (births per woman): pins the one shape parameter ONS does not
    publish from an age-group rate it does publish. Bisection on sd in [2, 12] years."""
    lo, hi = 2.0, 12.0

    def rate(sd: float) -> float:
        f = fertility_schedule(tfr, mean_age, sd)
        return float(f[band[0]:band[1] + 1].mean())

    # the band below the mean age: a wider schedule puts more births into it
    if not (rate(lo) <= band_rate <= rate(hi)):
        raise ValueError(f"no spread in [{lo}, {hi}] gives a rate of {band_rate} at ages {band}")
    for _ in range(60):
        mid = (lo + hi) / 2
        if rate(mid) < band_rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def life_expectancy(qx: np.ndarray, age: int = 0) -> float:
    """Period life expectancy at `age` from single-year qx (deaths mid-year; the open age
    group lives 1 / q more years): the check that a mortality schedule is plausible."""
    survivors = np.cumprod(np.r_[1.0, 1.0 - qx[:-1]])
    person_years = (survivors[:-1] + survivors[1:]) / 2
    open_group = survivors[-1] / qx[-1] if qx[-1] > 0 else 0.0
    return float((person_years[age:].sum() + open_group) / survivors[age])
