"""From warehouse tables and published-rate seeds to projected populations (polars in,
polars out; the arithmetic is in cohort_component). Called by the dbt Python models
int_projection_population and int_projection_backtest_population, and by the tests.

Variants (as ONS combines its variant assumptions into low and high population variants):
- principal: net migration at the district's residual rate, mortality improving at the
  ONS principal long-term rate;
- low:  net migration rate lowered by `migration_variant_spread` of its magnitude, low
        life expectancy (slow mortality improvement);
- high: net migration rate raised likewise, high life expectancy.
Every variant lowers (or raises) every cell together, so a sum of lows is the low of a sum.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.projection import cohort_component as cc

AREA_COLUMNS = ["district_code", "district_name", "pcn_code", "pcn_name", "imd_quintile"]
SEX_INDEX = {"F": cc.FEMALE, "M": cc.MALE}


def parameter(parameters: pl.DataFrame, name: str) -> float:
    """One value of seed projection_parameters (or projection_fertility); a missing or
    duplicated parameter is an error naming it, never a silent default."""
    rows = parameters.filter(pl.col("parameter") == name)
    if rows.height != 1:
        raise ValueError(f"projection parameter {name!r} is missing from its seed (or duplicated)")
    return float(rows["value"][0])


def mortality_from_seed(mortality: pl.DataFrame) -> np.ndarray:
    """(2, AGES) qx by sex from the seed's anchor ages (log-linear in between)."""
    qx = np.zeros((2, cc.AGES))
    for sex, index in SEX_INDEX.items():
        rows = mortality.filter(pl.col("sex") == sex)
        if rows.is_empty():
            raise ValueError(f"seed projection_mortality has no rows for sex {sex}")
        qx[index] = cc.interpolate_log_linear(dict(zip(rows["age"].to_list(), rows["qx"].to_list(), strict=True)))
    return qx


def fertility_from_seed(fertility: pl.DataFrame) -> tuple[np.ndarray, float]:
    """Single-year ASFR (births per woman) and the boys' share of births from the seed's
    published figures: TFR, mean age of mothers and the 20-24 rate pin a normal schedule."""
    tfr = parameter(fertility, "total_fertility_rate")
    mean_age = parameter(fertility, "mean_age_of_mother")
    rate_20_24 = parameter(fertility, "asfr_20_24") / 1000.0
    sd = cc.fit_fertility_sd(tfr, mean_age, (20, 24), rate_20_24)
    boys = parameter(fertility, "boys_per_100_girls")
    return cc.fertility_schedule(tfr, mean_age, sd), boys / (100.0 + boys)


def to_array(base: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """The distinct areas of a base population (columns AREA_COLUMNS, sex, age, people)
    and its (areas, 2, AGES) array."""
    areas = base.select(AREA_COLUMNS).unique().sort(AREA_COLUMNS).with_row_index("area")
    indexed = base.join(areas, on=AREA_COLUMNS, how="inner")
    array = np.zeros((areas.height, 2, cc.AGES))
    sex = indexed["sex"].replace_strict(SEX_INDEX, return_dtype=pl.Int64).to_numpy()
    age = np.minimum(indexed["age"].to_numpy(), cc.MAX_AGE)
    np.add.at(array, (indexed["area"].to_numpy(), sex, age), indexed["people"].to_numpy().astype(float))
    return areas, array


def district_migration(areas: pl.DataFrame, array: np.ndarray, growth: pl.DataFrame,
                       qx: np.ndarray, asfr: np.ndarray, male_share: float) -> np.ndarray:
    """Net migration rate per area: the residual rate of its district (published growth
    less natural change of the district's base population); 0 where no growth is published."""
    districts = areas["district_code"].to_list()
    codes = sorted(set(districts))
    by_district = np.zeros((len(codes), 2, cc.AGES))
    for i, code in enumerate(districts):
        by_district[codes.index(code)] += array[i]
    published = dict(zip(growth["lad19cd"].to_list(), growth["annual_growth"].to_list(), strict=True))
    rate = np.array([published.get(code, np.nan) for code in codes], dtype=float)
    m = cc.migration_residual(by_district, np.nan_to_num(rate), qx, asfr, male_share)
    m = np.where(np.isnan(rate), 0.0, m)
    return np.array([m[codes.index(code)] for code in districts])


def run_projection(base: pl.DataFrame, growth: pl.DataFrame, mortality: pl.DataFrame,
                   fertility: pl.DataFrame, parameters: pl.DataFrame, age_bands: pl.DataFrame,
                   years: int | None = None) -> pl.DataFrame:
    """Project `base` (AREA_COLUMNS, sex, age, people, reference_date) for `years` (default
    the seed's horizon) under the three variants; one row per area, sex, rate band (seed
    projection_age_bands: five-year bands from 65, so that need rates follow the ageing of
    the old within the warehouse's ten-year bands) and year, with the warehouse age band,
    people (principal), people_low and people_high. Year 0 is the base population."""
    if base.is_empty():
        raise ValueError("the base population is empty: nothing to project")
    years = int(parameter(parameters, "horizon_years")) if years is None else years
    qx = mortality_from_seed(mortality)
    asfr, male_share = fertility_from_seed(fertility)
    areas, array = to_array(base)
    m = district_migration(areas, array, growth, qx, asfr, male_share)
    spread = parameter(parameters, "migration_variant_spread")
    variants = {
        "people": (m, parameter(parameters, "mortality_improvement_principal")),
        "people_low": (m - spread * np.abs(m), parameter(parameters, "mortality_improvement_low")),
        "people_high": (m + spread * np.abs(m), parameter(parameters, "mortality_improvement_high")),
    }
    band_of_age = np.empty(cc.AGES, dtype=object)
    for row in age_bands.iter_rows(named=True):
        band_of_age[row["min_age"]:min(row["max_age"], cc.MAX_AGE) + 1] = row["rate_band"]
    if any(b is None for b in band_of_age):
        raise ValueError("seed projection_age_bands does not cover every age 0-100")
    bands = sorted(set(band_of_age))
    band_index = np.array([bands.index(b) for b in band_of_age])
    columns = {}
    for name, (migration, improvement) in variants.items():
        rates = cc.Rates(qx=qx, asfr=asfr, migration=migration, male_births_share=male_share,
                         mortality_improvement=improvement)
        projected = cc.project(array, rates, years)              # (years+1, areas, 2, AGES)
        banded = np.zeros((*projected.shape[:3], len(bands)))
        np.add.at(banded, (slice(None), slice(None), slice(None), band_index), projected)
        columns[name] = banded
    shape = columns["people"].shape
    t, a, s, b = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    base_year = base["reference_date"].max().year
    frame = pl.DataFrame({
        "area": a.ravel().astype(np.uint32),
        "sex": np.where(s.ravel() == cc.MALE, "M", "F"),
        "rate_band": np.array(bands, dtype=object)[b.ravel()].astype(str),
        "years_ahead": t.ravel().astype(np.int32),
        "year": (base_year + t.ravel()).astype(np.int32),
        **{name: values.ravel() for name, values in columns.items()},
    })
    frame = frame.filter(pl.col("people_high") > 0)
    return (frame.join(areas, on="area").drop("area")
            .join(age_bands.select("rate_band", "age_band"), on="rate_band", how="left")
            .with_columns(base_date=pl.lit(base["reference_date"].max()))
            .select(*AREA_COLUMNS, "sex", "rate_band", "age_band", "year", "years_ahead", "people",
                    "people_low", "people_high", "base_date"))


def migration_table(base: pl.DataFrame, growth: pl.DataFrame, mortality: pl.DataFrame,
                    fertility: pl.DataFrame) -> pl.DataFrame:
    """District net migration rates as used (for the report)."""
    qx = mortality_from_seed(mortality)
    asfr, male_share = fertility_from_seed(fertility)
    areas, array = to_array(base)
    m = district_migration(areas, array, growth, qx, asfr, male_share)
    return (areas.with_columns(net_migration_rate=pl.Series(m))
            .group_by("district_code", "district_name").agg(pl.col("net_migration_rate").first())
            .sort("district_code"))
