"""The GX runner: results over batches equal results over the whole extract."""

import datetime as dt

import polars as pl

from dagster_project.quality.gx_runner import run_suite

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


def test_batches_give_the_same_verdicts_and_counts_as_one_pass():
    whole = run_suite(_frame(), SUITE, PARAMS)
    batched = run_suite(_frame(), SUITE, PARAMS, batch_rows=128)
    assert batched.batches == 8
    assert _summary(whole) == _summary(batched)
    verdicts = _summary(batched)
    assert verdicts["sex allowed"] == (False, 100)  # 10% > 5%, all in the last batch
    assert verdicts["unique"] == (False, 2)  # the two duplicates sit in different batches
    assert verdicts["date range"] == (False, 1)  # a year-3024 typo is caught, not a crash
    assert [o.rule for o in batched.blocking_failures] == ["sex allowed", "unique"]
    assert [o.rule for o in batched.warnings] == ["date range"]


def test_sample_rows_point_at_the_failing_rows():
    out = run_suite(_frame(), SUITE, PARAMS, batch_rows=128)
    unique = next(o for o in out.outcomes if o.rule == "unique")
    assert [r["_row"] for r in unique.sample_rows] == [6, 996]


def test_rate_rules_need_enough_rows_to_block():
    out = run_suite(_frame(), SUITE, PARAMS, rate_block_min_rows=100)
    assert [o.rule for o in out.blocking_failures] == ["unique"]  # 100 bad sex codes: not > 100
