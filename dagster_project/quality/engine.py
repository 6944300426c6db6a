"""Great Expectations rules evaluated as polars expressions over the whole extract.

Ingest used to hand every extract to GX as pandas batches; at 1.1 million people that was
most of ingest's time and memory (benchmarks/results/ingest-*.md). The data is already a
polars frame, so each expectation of the suite is translated into a polars expression
(TRANSLATORS: expectation type -> expression), all of them are computed in one parallel
pass, and their counts, first unexpected values and first failing row numbers are put into
GX's own result objects (`ExpectationValidationResult`, SUMMARY format) that
`suite.finish` turns into verdicts exactly as it does for GX's results.

GX stays the definition: the suite is parsed by GX (types, kwargs, severity, meta) and
the reference runner (`gx_runner.run_suite_gx`) gives the same counts on the same frames
(tests/unit/test_quality_engine.py runs every shipped suite through both). An expectation
type or keyword the table does not know raises `UnsupportedExpectation` rather than being
skipped: a rule that silently stops being checked is worse than a crash.

Semantics follow GX's pandas engine: a map rule ignores missing values (null, and NaN in a
float column) except `not_be_null`; `match_regex` is a search (`re.search`, not a full
match) on the value as text; `be_unique` flags every copy of a repeated value; compound
uniqueness ignores rows whose key columns are all missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from great_expectations.core import ExpectationValidationResult

from dagster_project.quality.suite import (
    PARTIAL_VALUES,
    ROW_COUNT,
    SuiteOutcome,
    accumulate,
    finish,
    parse_suite,
    row_count_outcome,
    substitute,
)


class UnsupportedExpectation(ValueError):
    """The suite uses an expectation type or keyword the polars engine cannot evaluate."""


@dataclass(frozen=True)
class MapRule:
    """A row-level rule: which rows GX considers, and which of those break it."""

    considered: pl.Expr
    unexpected: pl.Expr
    reports_missing: bool = True  # not_be_null reports no missing_count (GX: nonnull_count=None)


def _present(name: str, dtype: pl.DataType) -> pl.Expr:
    """Not missing as pandas sees it: not null, and not NaN in a float column."""
    col = pl.col(name)
    return col.is_not_null() & ~col.is_nan() if dtype.is_float() else col.is_not_null()


def _not_null(kw: dict, schema: pl.Schema) -> MapRule:
    c = kw["column"]
    return MapRule(pl.lit(True), ~_present(c, schema[c]), reports_missing=False)


def _bound(value: Any, dtype: pl.DataType) -> tuple[pl.Expr | None, Any]:
    """A between-bound as a literal comparable with the column (a Date column is compared
    with a datetime bound as a datetime, as pandas' datetime64 column is)."""
    if value is None:
        return None, None
    if isinstance(value, dt.datetime) and dtype == pl.Date:
        return pl.lit(value), pl.Datetime("us")
    if isinstance(value, str) and dtype.is_temporal():
        raise TypeError(f"a text bound {value!r} on a {dtype} column")
    return pl.lit(value), None


def _between(kw: dict, schema: pl.Schema) -> MapRule:
    c = kw["column"]
    dtype = schema[c]
    if dtype in (pl.String, pl.Boolean, pl.Categorical):
        raise TypeError(f"ColumnValuesBetween metrics cannot be computed on column of type {dtype}.")
    low, low_cast = _bound(kw.get("min_value"), dtype)
    high, high_cast = _bound(kw.get("max_value"), dtype)
    if low is None and high is None:
        raise ValueError("min_value and max_value cannot both be None")
    ok = pl.lit(True)
    if low is not None:
        col = pl.col(c).cast(low_cast) if low_cast else pl.col(c)
        ok = ok & (col > low if kw.get("strict_min") else col >= low)
    if high is not None:
        col = pl.col(c).cast(high_cast) if high_cast else pl.col(c)
        ok = ok & (col < high if kw.get("strict_max") else col <= high)
    return MapRule(_present(c, dtype), ~ok)


def _in_set(kw: dict, schema: pl.Schema) -> MapRule:
    c = kw["column"]
    values = kw.get("value_set")
    if values is None:
        return MapRule(_present(c, schema[c]), pl.lit(False))  # GX: vacuously true
    allowed = pl.Series(list(values))
    if allowed.dtype != schema[c] and allowed.dtype != pl.Null:
        # pandas' isin compares across types (a number never equals a code held as text)
        allowed = allowed.cast(schema[c], strict=False).drop_nulls()
    return MapRule(_present(c, schema[c]), ~pl.col(c).is_in(allowed))


def _regex(kw: dict, schema: pl.Schema) -> MapRule:
    c = kw["column"]
    return MapRule(_present(c, schema[c]), ~pl.col(c).cast(pl.String).str.contains(kw["regex"]))


def _unique(kw: dict, schema: pl.Schema) -> MapRule:
    c = kw["column"]
    present = _present(c, schema[c])
    # duplicates among the present values only: nulls are not compared
    return MapRule(present, pl.when(present).then(pl.col(c)).is_duplicated() & present)


def _compound_unique(kw: dict, schema: pl.Schema) -> MapRule:
    columns = list(kw["column_list"])
    mode = kw.get("ignore_row_if", "all_values_are_missing")
    present = [_present(c, schema[c]) for c in columns]
    considered = {"all_values_are_missing": pl.any_horizontal(present),
                  "any_value_is_missing": pl.all_horizontal(present),
                  "never": pl.lit(True)}[mode]
    key = pl.when(considered).then(pl.struct(columns))
    return MapRule(considered, key.is_duplicated() & considered)


# expectation type -> (translator, the keywords it understands besides column/mostly)
TRANSLATORS: dict[str, tuple[Callable[[dict, pl.Schema], MapRule], frozenset[str]]] = {
    "expect_column_values_to_not_be_null": (_not_null, frozenset()),
    "expect_column_values_to_be_between": (
        _between, frozenset({"min_value", "max_value", "strict_min", "strict_max"})),
    "expect_column_values_to_be_in_set": (_in_set, frozenset({"value_set"})),
    "expect_column_values_to_match_regex": (_regex, frozenset({"regex"})),
    "expect_column_values_to_be_unique": (_unique, frozenset()),
    "expect_compound_columns_to_be_unique": (_compound_unique, frozenset({"ignore_row_if"})),
}
AGGREGATES = {"expect_column_to_exist", "expect_column_unique_value_count_to_be_between", ROW_COUNT}
# keywords every expectation may carry that change nothing here
NEUTRAL = frozenset({"column", "column_list", "mostly", "catch_exceptions", "result_format",
                     "include_config", "meta"})


def check_supported(suite_doc: dict) -> None:
    """Raise `UnsupportedExpectation` if any expectation of the suite cannot be evaluated."""
    for e in parse_suite(suite_doc).expectations:
        _check(e, suite_doc.get("name", "?"))


def _check(e, suite_name: str) -> None:
    kind = e.expectation_type
    kwargs = {k for k, v in e.configuration.kwargs.items() if v is not None}
    if kind in TRANSLATORS:
        unknown = kwargs - TRANSLATORS[kind][1] - NEUTRAL
    elif kind in AGGREGATES:
        unknown = kwargs - NEUTRAL - {"min_value", "max_value", "strict_min", "strict_max"}
    else:
        raise UnsupportedExpectation(
            f"suite {suite_name}: expectation type {kind} has no polars translation "
            "(quality/engine.py TRANSLATORS); add one with a parity test against GX")
    if "row_condition" in kwargs or unknown:
        raise UnsupportedExpectation(
            f"suite {suite_name}: {kind} with keyword(s) {sorted(unknown)} is not translated")


def _columns(kw: dict) -> list[str]:
    return [kw["column"]] if kw.get("column") else list(kw.get("column_list") or [])


def _missing_column_error(kw: dict, frame: pl.DataFrame) -> str | None:
    missing = [c for c in _columns(kw) if c not in frame.columns]
    if missing:  # GX's own wording
        return f'Error: The column "{missing[0]}" in BatchData does not exist.'
    return None


def _result(e, success: bool, result: dict | None = None, error: str | None = None):
    info = {"raised_exception": error is not None, "exception_message": error,
            "exception_traceback": None}
    return ExpectationValidationResult(success=success, expectation_config=e.configuration,
                                       result=result or {}, exception_info=info)


def _aggregate(e, kw: dict, frame: pl.DataFrame):
    kind = e.expectation_type
    if kind == "expect_column_to_exist":
        return _result(e, kw["column"] in frame.columns)
    error = _missing_column_error(kw, frame)
    if error:
        return _result(e, False, error=error)
    c = kw["column"]
    observed = int(frame.select(pl.col(c).filter(_present(c, frame.schema[c])).n_unique()).item())
    low, high = kw.get("min_value"), kw.get("max_value")
    ok = (low is None or observed >= low) and (high is None or observed <= high)
    return _result(e, ok, {"observed_value": observed})


def run_suite(
    frame: pl.DataFrame,
    suite_doc: dict,
    parameters: dict | None = None,
    sample_columns: list[str] | None = None,
    rate_block_min_rows: int = 0,
) -> SuiteOutcome:
    """Validate `frame` against the suite in polars, in one pass over the whole extract."""
    parameters = parameters or {}
    suite = parse_suite(suite_doc)
    for e in suite.expectations:
        _check(e, suite.name)
    schema = frame.schema
    results: dict[int, Any] = {}
    rules: dict[int, MapRule] = {}
    for i, e in enumerate(suite.expectations):
        if e.expectation_type == ROW_COUNT:
            continue
        kw = {k: substitute(v, parameters) for k, v in e.configuration.kwargs.items()}
        if e.expectation_type in AGGREGATES:
            results[i] = _aggregate(e, kw, frame)
            continue
        error = _missing_column_error(kw, frame)
        if error is None:
            try:
                rules[i] = TRANSLATORS[e.expectation_type][0](kw, schema)
            except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
                error = str(exc)
        if error is not None:  # as GX does: the expectation fails with its error, others run
            results[i] = _result(e, False, error=error)
    for i, res in _evaluate(frame, rules, suite.expectations).items():
        results[i] = res
    totals: dict[int, dict] = {}
    for i in sorted(results):
        total = totals.setdefault(i, {"exp": suite.expectations[i]})
        accumulate(total, results[i], frame, 0, sample_columns)
    outcomes = [finish(totals[i], frame.height, parameters, rate_block_min_rows) for i in sorted(totals)]
    outcomes += [row_count_outcome(e, frame.height, parameters)
                 for e in suite.expectations if e.expectation_type == ROW_COUNT]
    return SuiteOutcome(suite=suite.name, rows=frame.height, batches=1, outcomes=outcomes)


def _evaluate(frame: pl.DataFrame, rules: dict[int, MapRule], expectations) -> dict[int, Any]:
    """Counts of every rule in one parallel select; first unexpected rows only where needed."""
    if not rules:
        return {}
    exprs = []
    for i, r in rules.items():
        exprs += [r.considered.sum().alias(f"c{i}"), (r.unexpected & r.considered).sum().alias(f"u{i}")]
    try:
        counts = frame.lazy().select(exprs).collect().row(0, named=True)
    except pl.exceptions.PolarsError:
        counts = None  # one rule fails to evaluate: evaluate them one by one to say which
    out: dict[int, Any] = {}
    for i, r in rules.items():
        e = expectations[i]
        try:
            if counts is None:
                c, u = frame.select(r.considered.sum(), (r.unexpected & r.considered).sum()).row(0)
            else:
                c, u = counts[f"c{i}"], counts[f"u{i}"]
            result = {"element_count": frame.height, "unexpected_count": int(u)}
            if r.reports_missing:
                result["missing_count"] = frame.height - int(c)
            result["partial_unexpected_list"], result["partial_unexpected_index_list"] = (
                _first_unexpected(frame, r, _columns(e.configuration.kwargs)) if u else ([], []))
            out[i] = _result(e, True, result)  # success is decided on the totals (suite.finish)
        except pl.exceptions.PolarsError as exc:
            out[i] = _result(e, False, error=str(exc))
    return out


def _first_unexpected(frame: pl.DataFrame, rule: MapRule, columns: list[str]):
    """The first unexpected values and their 0-based row positions, in row order."""
    bad = (rule.unexpected & rule.considered).fill_null(False)
    picked = frame.lazy().with_row_index("_i").filter(bad).head(PARTIAL_VALUES).select(
        "_i", *columns).collect()
    index = picked["_i"].to_list()
    if len(columns) == 1:
        values = picked[columns[0]].to_list()
    else:  # GX lists a multicolumn value as a dict of its columns
        values = picked.select(columns).to_dicts()
    return values, index
