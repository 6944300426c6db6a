"""Both validation paths (polars engine in production, GX on pandas batches as the
reference): batches and one pass give the same verdicts and counts."""

import datetime as dt

import polars as pl
import pytest

from dagster_project.quality.engine import run_suite
from dagster_project.quality.gx_runner import run_suite_gx

SUITE = {
    "name": "t",
    "expectations": [
        {"type": "expect_column_to_exist", "kwargs": {"column": "sex"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "sex", "value_set": ["M", "F"], "mostly": 0.95},
         "severity": "critical", "meta": {"rule": "sex allowed"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "dup", "value_set": [False]},
         "severity": "critical", "meta": {"rule": "unique"}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "d", "min_value": {"$PARAMETER": "lo"}, "max_value": {"$PARAMETER": "hi"}},
         "severity": "warning", "meta": {"rule": "date range"}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": {"$PARAMETER": "rows"}},
         "severity": "critical", "meta": {"rule": "volume"}},
    ],
}
PARAMS = {"lo": dt.datetime(1900, 1, 1), "hi": dt.datetime(2026, 11, 1), "rows": 100}
RUNNERS = {
    "polars": run_suite,
    "gx-batched": lambda *a, **k: run_suite_gx(*a, batch_rows=128, **k),
}


def _frame():
    n = 1000
    return pl.DataFrame({
        "sex": ["M", "F"] * (n // 2),
        "dup": [False] * n,
        "d": [dt.date(2000, 1, 1)] * n,
    }).with_columns(
        pl.when(pl.int_range(pl.len()) >= 900).then(pl.lit("X")).otherwise(pl.col("sex")).alias("sex"),
        pl.when(pl.int_range(pl.len()).is_in([5, 995])).then(True).otherwise(pl.col("dup")).alias("dup"),
        pl.when(pl.int_range(pl.len()) == 999).then(pl.lit(dt.date(3024, 1, 1))).otherwise(pl.col("d")).alias("d"),
    )


def _summary(outcome):
    return {o.rule: (o.success, o.unexpected_count) for o in outcome.outcomes}


def test_gx_batches_give_the_same_verdicts_and_counts_as_one_pass():
    whole = run_suite_gx(_frame(), SUITE, PARAMS)
    batched = run_suite_gx(_frame(), SUITE, PARAMS, batch_rows=128)
    assert batched.batches == 8
    assert _summary(whole) == _summary(batched) == _summary(run_suite(_frame(), SUITE, PARAMS))


@pytest.mark.parametrize("runner", RUNNERS)
def test_verdicts_and_counts(runner):
    out = RUNNERS[runner](_frame(), SUITE, PARAMS)
    verdicts = _summary(out)
    assert verdicts["sex allowed"] == (False, 100)  # 10% > 5%, all in the last batch
    assert verdicts["unique"] == (False, 2)  # the two duplicates sit in different batches
    assert verdicts["date range"] == (False, 1)  # a year-3024 typo is caught, not a crash
    assert [o.rule for o in out.blocking_failures] == ["sex allowed", "unique"]
    assert [o.rule for o in out.warnings] == ["date range"]
    sex = next(o for o in out.outcomes if o.rule == "sex allowed")
    assert sex.unexpected_values[:3] == ["X", "X", "X"] and sex.unexpected_percent == 10.0


@pytest.mark.parametrize("runner", RUNNERS)
def test_sample_rows_point_at_the_failing_rows(runner):
    out = RUNNERS[runner](_frame(), SUITE, PARAMS)
    unique = next(o for o in out.outcomes if o.rule == "unique")
    assert [r["_row"] for r in unique.sample_rows] == [6, 996]


@pytest.mark.parametrize("runner", RUNNERS)
def test_rate_rules_need_enough_rows_to_block(runner):
    out = RUNNERS[runner](_frame(), SUITE, PARAMS, rate_block_min_rows=100)
    assert [o.rule for o in out.blocking_failures] == ["unique"]  # 100 bad sex codes: not > 100


def _nhs_frame(rows: int, invalid: int) -> pl.DataFrame:
    return pl.DataFrame({"ok": [True] * (rows - invalid) + [False] * invalid})


RATE_SUITE = {"name": "r", "expectations": [
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "ok", "value_set": [True], "mostly": 0.98},
     "severity": "critical", "meta": {"rule": "NHS numbers pass modulus 11 (block above the threshold)"}}]}


@pytest.mark.parametrize("runner", RUNNERS)
def test_rate_rules_allow_what_chance_adds_at_small_counts(runner):
    """A 2% rule: 11 failures in 476 rows (2.3%; 9.5 allowed, chance adds 11.5 more) is a
    warning; 25 in 476 (5.3%) blocks; 2,300 in 100,000 (2.3%; 2,000 allowed + 166) blocks."""
    def blocked(rows, invalid):
        out = RUNNERS[runner](_nhs_frame(rows, invalid), RATE_SUITE, {}, rate_block_min_rows=10)
        return bool(out.blocking_failures)
    assert not blocked(476, 11)
    assert blocked(476, 25)
    assert not blocked(100_000, 2_150)
    assert blocked(100_000, 2_300)
