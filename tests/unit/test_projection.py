"""The cohort-component projection's arithmetic on hand-made populations, and the seeds'
published figures turned into rates (dagster_project/projection)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dagster_project.projection import cohort_component as cc
from dagster_project.projection import model

SEEDS = Path(__file__).resolve().parents[2] / "dbt" / "seeds"


def seed(name: str, folder: str = "projection") -> pl.DataFrame:
    return pl.read_csv(SEEDS / folder / f"{name}.csv", infer_schema_length=0).with_columns(
        pl.col(c).cast(pl.Float64) for c in ("qx", "value", "annual_growth", "age")
        if c in pl.read_csv(SEEDS / folder / f"{name}.csv", n_rows=1).columns)


def rates(qx=0.0, asfr=None, migration=(0.0,), boys=0.5, improvement=0.0) -> cc.Rates:
    return cc.Rates(qx=np.full((2, cc.AGES), qx) if np.isscalar(qx) else qx,
                    asfr=np.zeros(cc.AGES) if asfr is None else asfr,
                    migration=np.array(migration, dtype=float), male_births_share=boys,
                    mortality_improvement=improvement)


def one_area() -> np.ndarray:
    pop = np.zeros((1, 2, cc.AGES))
    pop[0, cc.FEMALE, 30] = 100
    pop[0, cc.MALE, 64] = 50
    pop[0, cc.FEMALE, 99] = 7
    pop[0, cc.FEMALE, 100] = 3
    return pop


def test_without_events_everyone_ages_one_year_and_the_open_age_accumulates():
    nxt = cc.step(one_area(), rates())
    assert nxt[0, cc.FEMALE, 31] == 100 and nxt[0, cc.FEMALE, 30] == 0
    assert nxt[0, cc.MALE, 65] == 50
    assert nxt[0, cc.FEMALE, 100] == 10          # 7 turning 100 join the 3 already 100+
    assert nxt.sum() == one_area().sum()


def test_deaths_remove_qx_of_each_age_before_ageing():
    qx = np.zeros((2, cc.AGES))
    qx[cc.MALE, 64] = 0.2
    qx[cc.FEMALE, 100] = 0.5
    nxt = cc.step(one_area(), rates(qx=qx))
    assert nxt[0, cc.MALE, 65] == pytest.approx(40)
    assert nxt[0, cc.FEMALE, 100] == pytest.approx(7 + 1.5)


def test_births_come_from_women_by_asfr_split_by_sex_and_infant_survival():
    asfr = np.zeros(cc.AGES)
    asfr[30] = 0.1                               # 100 women aged 30 -> 10 births
    qx = np.zeros((2, cc.AGES))
    qx[:, 0] = 0.1
    nxt = cc.step(one_area(), rates(qx=qx, asfr=asfr, boys=0.6))
    assert nxt[0, cc.MALE, 0] == pytest.approx(10 * 0.6 * 0.9)
    assert nxt[0, cc.FEMALE, 0] == pytest.approx(10 * 0.4 * 0.9)
    asfr_male_only = np.zeros(cc.AGES)
    pop = np.zeros((1, 2, cc.AGES))
    pop[0, cc.MALE, 30] = 100                    # men do not give birth
    asfr_male_only[30] = 0.1
    assert cc.step(pop, rates(asfr=asfr_male_only))[0, :, 0].sum() == 0


def test_net_migration_scales_each_area_by_its_own_rate():
    pop = np.concatenate([one_area(), one_area()])
    nxt = cc.step(pop, rates(migration=(0.1, -0.2)))
    assert nxt[0].sum() == pytest.approx(160 * 1.1)
    assert nxt[1].sum() == pytest.approx(160 * 0.8)


def test_components_balance_and_mortality_improves_each_year():
    asfr = np.zeros(cc.AGES)
    asfr[30] = 0.05
    r = rates(qx=0.01, asfr=asfr, migration=(0.02,), improvement=0.1)
    pop = one_area()
    for t in range(3):
        parts = cc.components(pop, r, t)
        nxt = cc.step(pop, r, t)
        assert nxt.sum() == pytest.approx(pop.sum() + parts["births"][0] - parts["deaths"][0]
                                          + parts["net_migration"][0])
        assert parts["deaths"][0] == pytest.approx(0.01 * 0.9 ** t * (pop.sum() + parts["births"][0]
                                                                    - pop[0, :, 90:].sum())
                                                   + (pop[0, :, 90:] * 0.01 * (1 - cc.improvement_by_age(0.1)[90:])
                                                      ** t).sum())
        pop = nxt
    assert cc.project(one_area(), r, 3)[3].sum() == pytest.approx(pop.sum())


def test_mortality_improvement_tapers_from_90_to_none_at_110():
    imp = cc.improvement_by_age(0.011)
    assert imp[0] == imp[90] == pytest.approx(0.011)
    assert imp[100] == pytest.approx(0.011 / 2)
    q = cc.improved_qx(rates(qx=0.1, improvement=0.011), 10)
    assert q[0, 50] == pytest.approx(0.1 * 0.989 ** 10)
    assert q[0, 50] < q[0, 100] < 0.1


def test_migration_residual_reproduces_the_published_growth():
    asfr = np.zeros(cc.AGES)
    asfr[30] = 0.01                              # 1 birth a year against 3.2 deaths
    qx = np.full((2, cc.AGES), 0.02)
    pop = np.concatenate([one_area(), 2 * one_area()])
    growth = np.array([0.0116, -0.0006])
    m = cc.migration_residual(pop, growth, qx, asfr, 0.5)
    nxt = cc.step(pop, cc.Rates(qx=qx, asfr=asfr, migration=m, male_births_share=0.5))
    assert nxt.sum(axis=(1, 2)) / pop.sum(axis=(1, 2)) - 1 == pytest.approx(growth)
    assert (m > growth).all()                    # deaths exceed births: migration makes up


def test_log_linear_interpolation_between_anchor_ages():
    q = cc.interpolate_log_linear({30: 0.001, 40: 0.004})
    assert q[30] == pytest.approx(0.001) and q[40] == pytest.approx(0.004)
    assert q[35] == pytest.approx(0.002)         # geometric mean half-way
    assert q[0] == pytest.approx(0.001) and q[100] == pytest.approx(0.004)
    with pytest.raises(ValueError):
        cc.interpolate_log_linear({})


def test_fertility_schedule_from_the_published_ons_2023_figures():
    asfr, boys_share = model.fertility_from_seed(seed("projection_fertility"))
    assert asfr.sum() == pytest.approx(1.44)                    # TFR
    assert asfr[20:25].mean() * 1000 == pytest.approx(38.6, abs=0.01)   # ASFR 20-24
    mean_age = (asfr * (np.arange(cc.AGES) + 0.5)).sum() / asfr.sum()
    assert mean_age == pytest.approx(30.9, abs=1e-6)
    assert asfr[:15].sum() == 0 and asfr[50:].sum() == 0
    assert boys_share == pytest.approx(105 / 205)


def test_mortality_seed_gives_a_rising_adult_curve_with_every_figure_sourced():
    mortality = seed("projection_mortality")
    qx = model.mortality_from_seed(mortality)
    assert qx.shape == (2, cc.AGES)
    assert (np.diff(qx[:, 15:]) >= 0).all()                     # rises with age from 15
    assert (qx[cc.MALE, 40:96] > qx[cc.FEMALE, 40:96]).all()
    assert qx[cc.FEMALE, 0] == pytest.approx(0.0039)
    with open(SEEDS / "projection" / "projection_mortality.csv") as fh:
        assert all(row["source"] and row["source_period"] for row in csv.DictReader(fh))


def test_mortality_seed_implies_the_life_expectancy_ons_publishes():
    """The seed's quinary qx come partly from a secondary copy of the ONS tables; the life
    expectancy they imply must be close to what ONS published (National life tables, UK:
    2018 to 2020 bulletin: at birth 79.0 years for males and 82.9 for females; at 65, 18.5
    and 21.0; 2020-2022, with COVID-19 years, is a little lower). Measured: 78.4 / 81.9 at
    birth, 18.0 / 20.3 at 65: women's mortality is slightly overstated (about a year of
    life expectancy), stated in the seed's description."""
    qx = model.mortality_from_seed(seed("projection_mortality"))
    assert cc.life_expectancy(qx[cc.MALE]) == pytest.approx(79.0, abs=1.0)
    assert cc.life_expectancy(qx[cc.FEMALE]) == pytest.approx(82.9, abs=1.5)
    assert cc.life_expectancy(qx[cc.MALE], 65) == pytest.approx(18.5, abs=1.0)
    assert cc.life_expectancy(qx[cc.FEMALE], 65) == pytest.approx(21.0, abs=1.0)
    assert cc.life_expectancy(np.full(cc.AGES, 1.0)) == pytest.approx(0.5)


def base_frame() -> pl.DataFrame:
    rows = []
    for district, people in (("E07000148", 10), ("E07000147", 20)):
        for age in range(0, 101, 5):
            for sex in ("F", "M"):
                rows.append({"district_code": district, "district_name": district, "pcn_code": "U1",
                             "pcn_name": "PCN", "imd_quintile": 3, "sex": sex, "age": age,
                             "people": people, "reference_date": dt.date(2026, 11, 1)})
    return pl.DataFrame(rows)


def run(base: pl.DataFrame, years: int = 5, parameters: pl.DataFrame | None = None) -> pl.DataFrame:
    return model.run_projection(
        base, seed("projection_district_growth"), seed("projection_mortality"),
        seed("projection_fertility"), seed("projection_parameters") if parameters is None else parameters,
        seed("projection_age_bands").with_columns(pl.col("min_age", "max_age").cast(pl.Int64)), years)


def test_run_projection_starts_from_the_base_and_brackets_it_with_variants():
    base = base_frame()
    out = run(base)
    assert set(out["year"].unique()) == set(range(2026, 2032))
    start = out.filter(pl.col("years_ahead") == 0)
    assert start["people"].sum() == pytest.approx(base["people"].sum())
    assert (start["people_low"] == start["people"]).all() and (start["people_high"] == start["people"]).all()
    later = out.filter(pl.col("years_ahead") == 5)
    assert (later["people_low"] <= later["people"] + 1e-9).all()
    assert (later["people"] <= later["people_high"] + 1e-9).all()
    # first-year growth of each district is its published growth (residual migration)
    totals = out.filter(pl.col("years_ahead") <= 1).group_by("district_code", "years_ahead").agg(
        pl.col("people").sum()).sort("district_code", "years_ahead")
    norwich = totals.filter(pl.col("district_code") == "E07000148")["people"].to_list()
    assert norwich[1] / norwich[0] - 1 == pytest.approx(0.0043)


def test_run_projection_refuses_missing_parameters_and_empty_populations():
    parameters = seed("projection_parameters").filter(pl.col("parameter") != "mortality_improvement_high")
    with pytest.raises(ValueError, match="mortality_improvement_high"):
        run(base_frame(), parameters=parameters)
    with pytest.raises(ValueError, match="empty"):
        run(base_frame().clear())


def test_charts_are_well_formed_svg_with_one_line_per_series():
    import xml.etree.ElementTree as ET

    from dagster_project.projection import charts

    svg = charts.line_chart("t", {"a": [(2026, 10, 10, 10), (2031, 12, 11, 14)],
                                  "b": [(2026, 10, 10, 10), (2031, 12.1, 11, 13)]}, "people")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}polyline")) == 2 and len(root.findall(f"{ns}polygon")) == 2
    ends = sorted(float(t.get("y")) for t in root.findall(f"{ns}text") if t.text in ("a", "b"))
    assert ends[1] - ends[0] >= 12                      # end labels do not overlap
    ET.fromstring(charts.bar_chart("t", [("x", 5.0), ("y", -2.0)]))
    ET.fromstring(charts.pyramid("t", ["00-04", "85+"], {("85+", "F"): 3}, {("85+", "F"): 5}, "2026", "2046"))
