"""The polars engine against GX itself: every shipped suite, on frames built to break it.

Each suite in expectations/ is run by both paths over the same typed frame (the registry's
columns, the audit columns ingest derives, values drawn from both sides of each rule:
allowed codes and unknown ones, dates before 1900 and after the extract, text that does
and does not match each pattern, repeated record keys, nulls and NaN). The verdict, the
counts, the percentages, the first failing rows and the values named must agree.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import polars as pl
import pytest

from dagster_project.quality.derived import add_audit_columns
from dagster_project.quality.engine import UnsupportedExpectation, check_supported, run_suite
from dagster_project.quality.gx_runner import run_suite_gx
from dagster_project.quality.suite import load_suite
from dagster_project.sources.ingest import EXPECTATIONS_DIR, FAR_FUTURE, MIN_DATE
from dagster_project.sources.registry import load_registry

SUITES = sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))
SPECS = {s.suite: s for s in load_registry().values()}
EXTRACT = dt.datetime(2026, 10, 1)
ROWS = 600
TEXT = ["A12345", "D82001", "a12345", "E01026536", "123456789", "9990000000", "999 000 0000",
        "NR1 1AA", "nr11aa", "X", "", " ", "01", "1", "abc", "0123456789abcdef", "Z" * 70,
        "976631000000101", "+44 7700 900123", "alice@example.com", "2026-01-01"]


def _pool(suite: dict, column: str) -> list:
    """Candidate values for a text column: its allowed codes plus generic near misses."""
    pool = list(TEXT)
    for e in suite["expectations"]:
        if e["kwargs"].get("column") == column and isinstance(e["kwargs"].get("value_set"), list):
            pool += [v for v in e["kwargs"]["value_set"] if isinstance(v, str)] * 5
    return pool


def _typed_column(rng, name: str, kind: str, suite: dict) -> pl.Series:
    nulls = rng.random(ROWS) < 0.08
    if kind == "date":
        days = rng.integers(-60_000, 80_000, ROWS)  # 1805 .. 2189
        values = [None if n else dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d, n in zip(days, nulls)]
        return pl.Series(name, values, dtype=pl.Date)
    if kind == "integer":
        values = [None if n else int(v) for v, n in zip(rng.integers(-5, 150, ROWS), nulls)]
        return pl.Series(name, values, dtype=pl.Int64)
    if kind == "float":
        raw = rng.normal(30, 40, ROWS)
        raw[rng.random(ROWS) < 0.03] = np.nan
        return pl.Series(name, [None if n else float(v) for v, n in zip(raw, nulls)], dtype=pl.Float64)
    pool = _pool(suite, name)
    # a small pool of ids so record keys repeat
    if name.endswith("_id") or name == "nhs_number":
        pool = [f"R{i}" for i in range(ROWS - 12)] + ["9990000000", "9434765919"]
    picks = rng.integers(0, len(pool), ROWS)
    return pl.Series(name, [None if n else pool[p] for p, n in zip(picks, nulls)], dtype=pl.String)


def _frame(suite_name: str, suite: dict, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    spec = SPECS.get(suite_name)
    if spec is not None:
        frame = pl.DataFrame([_typed_column(rng, c.name, c.type, suite) for c in spec.columns])
        births = None
        if spec.source == "gp" and {"practice_code", "patient_id"} <= set(frame.columns) \
                and "date_of_birth" not in frame.columns:
            births = frame.select("practice_code", "patient_id").unique().with_columns(
                date_of_birth=pl.lit(dt.date(1950, 6, 1)))
        return add_audit_columns(frame, spec.record_key, spec.event_date, births)
    # a suite with no registry table (the cohort release): type columns by their rules
    columns: dict[str, str] = {}
    for e in suite["expectations"]:
        for c in [e["kwargs"].get("column"), *(e["kwargs"].get("column_list") or [])]:
            if not c:
                continue
            between = e["type"].endswith("_to_be_between") and e["type"] != "expect_column_unique_value_count_to_be_between"
            columns[c] = "integer" if between else columns.get(c, "string")
    columns["reference_date"] = "date"
    return pl.DataFrame([_typed_column(rng, c, k, suite) for c, k in columns.items()])


def _comparable(outcome):
    # GX names a missing value nan (NaT), a date as a pandas timestamp and a whole number with
    # nulls beside it as a float; the engine None, an ISO date and an integer
    values = [re.sub(r"(\d)\.0(?!\d)", r"\1", str(v).removesuffix(" 00:00:00").replace("nan", "None").replace("NaT", "None"))
              for v in outcome.unexpected_values]
    pct = outcome.unexpected_percent
    return (outcome.expectation, outcome.rule, outcome.column, outcome.severity, outcome.success,
            outcome.element_count, outcome.unexpected_count,
            None if pct is None else round(pct, 9), outcome.error is None,
            [r["_row"] for r in outcome.sample_rows], values,
            outcome.observed_value if outcome.unexpected_count is None else None)


PARAMS = {"extract_date": EXTRACT, "min_date": MIN_DATE, "far_future": FAR_FUTURE,
          "volume_block_min": 100, "volume_warn_min": 500, "volume_warn_max": 700, "max_rows": 550}


@pytest.mark.parametrize("suite_name", SUITES)
def test_engine_matches_gx_on_every_shipped_suite(suite_name):
    suite = load_suite(EXPECTATIONS_DIR / f"{suite_name}.json")
    check_supported(suite)
    for seed in (1, 2):
        frame = _frame(suite_name, suite, seed)
        # GX in one batch: batched GX cannot see a value repeated across two batches (the
        # engine sees the whole extract; that is why record keys have an audit column)
        reference = run_suite_gx(frame, suite, PARAMS, rate_block_min_rows=3)
        engine = run_suite(frame, suite, PARAMS, rate_block_min_rows=3)
        assert [_comparable(o) for o in engine.outcomes] == [_comparable(o) for o in reference.outcomes]
        assert engine.passed == reference.passed
    # the frames do break rules: the comparison is not between two empty verdicts
    assert any(o.unexpected_count for o in engine.outcomes)


def test_a_missing_column_fails_its_rule_with_gx_wording():
    suite = {"name": "t", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "gone"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "here"}}]}
    frame = pl.DataFrame({"here": [1, None]})
    engine, reference = run_suite(frame, suite), run_suite_gx(frame, suite)
    assert [o.success for o in engine.outcomes] == [o.success for o in reference.outcomes] == [False, False]
    assert engine.outcomes[0].error and "gone" in engine.outcomes[0].error
    assert engine.outcomes[1].unexpected_count == 1


def test_an_expectation_type_without_a_translation_fails_loudly():
    suite = {"name": "t", "expectations": [
        {"type": "expect_column_value_lengths_to_equal", "kwargs": {"column": "x", "value": 3}}]}
    with pytest.raises(UnsupportedExpectation, match="expect_column_value_lengths_to_equal"):
        run_suite(pl.DataFrame({"x": ["abc"]}), suite)
    conditional = {"name": "t", "expectations": [
        {"type": "expect_column_values_to_not_be_null",
         "kwargs": {"column": "x", "row_condition": 'col("y") > 1', "condition_parser": "great_expectations"}}]}
    with pytest.raises(UnsupportedExpectation, match="row_condition"):
        run_suite(pl.DataFrame({"x": ["abc"], "y": [2]}), conditional)


def test_nan_is_missing_as_pandas_sees_it():
    suite = {"name": "t", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "v"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "v", "min_value": 0}}]}
    frame = pl.DataFrame({"v": [1.0, math.nan, None, -2.0]})
    engine, reference = run_suite(frame, suite), run_suite_gx(frame, suite)
    assert [_comparable(o) for o in engine.outcomes] == [_comparable(o) for o in reference.outcomes]
    assert [o.unexpected_count for o in engine.outcomes] == [2, 1]


def test_record_key_duplicates_by_hash_then_exact_match_the_exact_check():
    from dagster_project.quality.derived import key_duplicated

    rng = np.random.default_rng(3)
    n = 5000
    frame = pl.DataFrame({
        "practice": rng.choice(["D82001", "D82002", None], n).tolist(),
        "id": [None if v < 40 else f"E{v}" for v in rng.integers(0, 4000, n)],
    })
    exact = frame.select(pl.struct("practice", "id").is_duplicated()).to_series()
    assert key_duplicated(frame, ["practice", "id"]).to_list() == exact.to_list()
    assert 0 < exact.sum() < n
    assert key_duplicated(frame.head(0), ["practice", "id"]).len() == 0
    assert key_duplicated(frame.unique(maintain_order=True), ["id"]).sum() > 0


def test_increment_volume_gate_allows_small_number_noise_but_not_a_collapse():
    from dagster_project.sources.ingest import volume_block_min

    # a small increment: 22 rows last month, 10 this month is chance (Poisson), not a collapse
    assert volume_block_min(22, 0.5, "increment") <= 10
    # a large increment keeps the ratio rule: half of 10,000 is still a collapse
    assert volume_block_min(10_000, 0.5, "increment") == 5_000
    # snapshots keep their ratio at every size (a missing practice is a broken extract)
    assert volume_block_min(22, 0.9, "snapshot") == 19
    assert volume_block_min(200, 0.9, "snapshot") == 180
