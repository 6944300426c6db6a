"""Outcomes with memory: end of life, palliative registers, frailty coding, admission clustering.

One 8,000-person synthetic ICS (seconds); every check reads the extracts as delivered and
the ground truth, against published rates (cited in synthetic/trajectories.py and
synthetic/activity.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dagster_project.synthetic import GeneratorConfig, generate
from dagster_project.synthetic import config as C

END = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def ics(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trajectories")
    generate(GeneratorConfig(persons=8000, seed=11, out=out, end_date=END))
    return out


@pytest.fixture(scope="module")
def people(ics: Path) -> pl.DataFrame:
    return pl.read_parquet(ics / "truth" / "people.parquet")


@pytest.fixture(scope="module")
def events(ics: Path) -> pl.DataFrame:
    """The newest gp.events snapshot with the true person of each record."""
    truth = pl.read_parquet(ics / "truth" / "person_records.parquet").filter(
        pl.col("table") == "patients").select(pl.col("record_id").alias("patient_id"),
                                              "true_person_id")
    ev = pl.read_csv(ics / "landing" / "gp" / END.isoformat() / "events.csv",
                     infer_schema_length=0)
    return ev.join(truth, on="patient_id").with_columns(
        event_date=pl.col("event_date").str.to_date())


@pytest.fixture(scope="module")
def emergencies(ics: Path) -> pl.DataFrame:
    truth = pl.read_parquet(ics / "truth" / "person_records.parquet").filter(
        pl.col("table") == "apc").select(pl.col("record_id").alias("spell_id"), "true_person_id")
    apc = pl.concat([pl.read_csv(p, infer_schema_length=0)
                     for p in sorted((ics / "landing" / "acute").glob("*/apc.csv"))])
    return (apc.unique("spell_id", keep="last")
            .filter(pl.col("admission_method").str.starts_with("2"))
            .join(truth, on="spell_id")
            .with_columns(admission_date=pl.col("admission_date").str.to_date()))


def codes_of(cluster: str) -> set[str]:
    codes = pl.read_csv(C.CODELIST_CSV, infer_schema_length=0)
    return set(codes.filter(pl.col("cluster_id") == cluster)["code"])


def test_palliative_register_at_published_rates(people: pl.DataFrame, events: pl.DataFrame):
    palliative = events.filter(pl.col("snomed_code").is_in(codes_of("PALCARE_COD")))
    assert palliative.height > 0
    alive = people.filter(pl.col("date_of_death").is_null())
    on_register = palliative.filter(pl.col("event_date") > dt.date(2025, 11, 1))[
        "true_person_id"].unique()
    share = alive.filter(pl.col("true_person_id").is_in(on_register.implode())).height / alive.height
    # QOF palliative care register: ~0.4-0.6% of the list in England
    assert 0.002 < share < 0.009, share
    died = people.filter(pl.col("date_of_death").is_not_null())
    coded = died.filter(pl.col("true_person_id").is_in(palliative["true_person_id"].implode()))
    # about half of decedents are on a register before death (more with cancer)
    assert 0.3 < coded.height / died.height < 0.65
    with_cancer = coded.filter(pl.col("has_cancer")).height / max(died.filter(pl.col("has_cancer")).height, 1)
    assert with_cancer > coded.height / died.height
    # nobody is coded after death
    late = palliative.join(people.select("true_person_id", "date_of_death"), on="true_person_id")
    assert late.filter(pl.col("event_date") > pl.col("date_of_death")).height == 0


def test_people_alive_at_the_end_can_be_in_their_last_year(people: pl.DataFrame):
    alive = people.filter(pl.col("date_of_death").is_null())
    share = alive["last_year_of_life_from"].is_not_null().mean()
    assert 0.004 < share < 0.025, share  # ~1% of a list dies within a year


def test_frailty_coding_matures(people: pl.DataFrame, events: pl.DataFrame):
    """The share of frail people aged 65+ with a frailty code in a year rises over time."""
    frail_codes = codes_of("MILDFRAIL_COD") | codes_of("MODFRAIL_COD") | codes_of("SEVFRAIL_COD")
    coded = events.filter(pl.col("snomed_code").is_in(frail_codes))
    frail = people.filter((pl.col("frailty") > 0) & pl.col("date_of_death").is_null())
    shares = {}
    for year in (2021, 2025):
        who = coded.filter(pl.col("event_date").dt.year() == year)["true_person_id"].unique()
        older = frail.filter(pl.col("date_of_birth") <= dt.date(year - 65, 1, 1))
        shares[year] = older.filter(pl.col("true_person_id").is_in(who.implode())).height / older.height
    assert shares[2025] > 2 * shares[2021], shares
    falls = events.filter(pl.col("snomed_code").is_in(codes_of("FALLS_COD")))
    assert falls.height > 0


def test_prior_admissions_predict_future_ones(people: pl.DataFrame, emergencies: pl.DataFrame):
    """Within an age band, people admitted last year are admitted far more this year."""
    cut = dt.date(2025, 11, 1)
    prior = emergencies.filter(pl.col("admission_date").is_between(dt.date(2024, 11, 2), cut))
    after = emergencies.filter(pl.col("admission_date") > cut)
    band = people.filter(pl.col("date_of_birth").is_between(dt.date(1945, 1, 1), dt.date(1965, 1, 1))
                         & (pl.col("date_of_death").is_null() | (pl.col("date_of_death") > cut)))
    had = band["true_person_id"].is_in(prior["true_person_id"].implode())
    future = band["true_person_id"].is_in(after["true_person_id"].implode())
    rate_prior = future.filter(had).mean()
    rate_none = future.filter(~had).mean()
    assert rate_prior > 2.5 * rate_none, (rate_prior, rate_none)


def test_admissions_cluster_and_rise_in_the_last_year_of_life(people: pl.DataFrame,
                                                            emergencies: pl.DataFrame):
    days = (emergencies.sort("true_person_id", "admission_date")
            .with_columns(gap=pl.col("admission_date").diff().over("true_person_id").dt.total_days()))
    within_30 = days.filter(pl.col("gap").is_not_null() & (pl.col("gap") <= 30)).height
    assert within_30 / days.height > 0.06  # a memoryless 0.1/year gives well under 1%
    died = people.filter(pl.col("date_of_death").is_not_null()
                         & (pl.col("date_of_death") > dt.date(2024, 6, 1)))
    last_year = emergencies.join(died.select("true_person_id", "date_of_death"), on="true_person_id")
    last_year = last_year.filter(pl.col("admission_date") > pl.col("date_of_death") - pl.duration(days=365))
    per_decedent = last_year.height / died.height
    older = people.filter(pl.col("date_of_birth") < dt.date(1950, 1, 1))
    per_older_year = emergencies.filter(pl.col("true_person_id").is_in(
        older["true_person_id"].implode())).height / older.height / 3.4
    assert per_decedent > 2.5 * per_older_year, (per_decedent, per_older_year)
    assert np.isfinite(per_decedent)
