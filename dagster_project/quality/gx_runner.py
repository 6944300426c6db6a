"""Run a Great Expectations suite over a polars frame, in batches, and summarise it.

GX 1.x has no DuckDB or polars data source, so each batch is handed to GX as a pandas
frame (numpy dtypes, datetimes at ns resolution, which keeps GX on its vectorised paths).
Big extracts are validated in batches; row-level (map) expectations are summed across
batches, so no row is skipped and `mostly` thresholds apply to the whole extract.
Table-level row counts are evaluated on the whole extract.

Severity comes from GX itself: an expectation's `severity` of `critical` blocks the
extract; `warning` and `info` are reported but do not stop it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations.expectation import (  # noqa: E402
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)

logging.getLogger("great_expectations").setLevel(logging.ERROR)

BATCH_ROWS = 1_000_000  # pandas object strings cost ~10x Arrow: keep batches small
SAMPLE_ROWS = 5


@dataclass
class ExpectationOutcome:
    """One expectation's verdict over the whole extract."""

    expectation: str
    rule: str
    column: str | None
    severity: str  # blocking | warning
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    unexpected_values: list[Any] = field(default_factory=list)
    sample_rows: list[dict] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> str:
        where = f" on {self.column!r}" if self.column else ""
        if self.error:
            return f"{self.rule}{where}: could not be evaluated ({self.error})"
        if self.unexpected_count is not None:
            pct = f" ({self.unexpected_percent:.2f}%)" if self.unexpected_percent is not None else ""
            examples = f", e.g. {self.unexpected_values[:3]}" if self.unexpected_values else ""
            return f"{self.rule}{where}: {self.unexpected_count} row(s) broke it{pct}{examples}"
        return f"{self.rule}{where}: observed {self.observed_value}"


@dataclass
class SuiteOutcome:
    suite: str
    rows: int
    batches: int
    outcomes: list[ExpectationOutcome]

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "blocking"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "warning"]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures

    def to_dict(self) -> dict:
        return {
            "suite": self.suite,
            "rows": self.rows,
            "batches": self.batches,
            "passed": self.passed,
            "outcomes": [asdict(o) for o in self.outcomes],
        }


def load_suite(path: Path) -> dict:
    """A suite document (GX 1.x JSON) from expectations/."""
    if not path.exists():
        raise FileNotFoundError(f"no Great Expectations suite at {path}")
    return json.loads(path.read_text())


@lru_cache(maxsize=1)
def _batch_definition():  # one ephemeral context per process: creating one costs ~0.5 s
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas("extracts").add_dataframe_asset("extract")
    return asset.add_batch_definition_whole_dataframe("whole")


def _to_pandas(frame: pl.DataFrame):
    # pandas datetimes at ns resolution span 1677-2262: clip wilder dates (a year 3024 typo)
    # into that range so they are still judged "in the future" rather than crashing.
    dates = [n for n, t in frame.schema.items() if t == pl.Date or isinstance(t, pl.Datetime)]
    frame = frame.with_columns(
        pl.col(n).clip(dt.date(1678, 1, 1), dt.date(2261, 12, 31)) for n in dates
    )
    pdf = frame.to_pandas(use_pyarrow_extension_array=False)
    for name, dtype in frame.schema.items():
        if dtype == pl.Date or isinstance(dtype, pl.Datetime):
            pdf[name] = pdf[name].astype("datetime64[ns]")
    return pdf


def _is_row_level(expectation) -> bool:
    return isinstance(
        expectation, ColumnMapExpectation | ColumnPairMapExpectation | MulticolumnMapExpectation
    )


def _severity(expectation) -> str:
    return "blocking" if str(getattr(expectation.severity, "value", "critical")) == "critical" else "warning"


def _rule(expectation) -> str:
    meta = expectation.meta or {}
    return meta.get("rule") or expectation.description or expectation.expectation_type


def _substitute(value: Any, parameters: dict) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


def run_suite(
    frame: pl.DataFrame,
    suite_doc: dict,
    parameters: dict | None = None,
    batch_rows: int = BATCH_ROWS,
    sample_columns: list[str] | None = None,
    rate_block_min_rows: int = 0,
) -> SuiteOutcome:
    """Validate `frame` against the suite; row-level results summed over batches.

    A rate rule (an expectation with `mostly` below 1) blocks only when its failures are
    both above the rate and more than `rate_block_min_rows` rows: two bad NHS numbers in a
    35-row social care extract are 6%, and not a reason to stop it.
    """
    parameters = parameters or {}
    suite = gx.ExpectationSuite(**{k: v for k, v in suite_doc.items() if k != "id"})
    row_level = [e for e in suite.expectations if _is_row_level(e)]
    table_level = [e for e in suite.expectations if not _is_row_level(e)]
    row_count_rules = [e for e in table_level if e.expectation_type == "expect_table_row_count_to_be_between"]
    other_table = [e for e in table_level if e not in row_count_rules]

    position = {id(e): i for i, e in enumerate(suite.expectations)}
    row_columns = {c for e in row_level for c in _columns_of(e)}
    totals: dict[int, dict] = {}
    batches = max(1, -(-frame.height // batch_rows))
    definition = _batch_definition()
    for b in range(batches):
        offset = b * batch_rows
        part = frame.slice(offset, batch_rows)
        expectations = row_level + (other_table if b == 0 else [e for e in other_table if _aggregate_ok(e)])
        if not expectations:
            continue
        tagged = []
        for e in expectations:  # GX may reorder results: tag each with its suite position
            copy = e.copy()
            copy.meta = {**(e.meta or {}), "_index": position[id(e)]}
            tagged.append(copy)
        batch_suite = gx.ExpectationSuite(name=suite.name, expectations=tagged)
        # GX sees only the columns its row-level expectations read (after the first batch,
        # which also carries every column for the table-level ones): less pandas memory
        columns = part.columns if b == 0 else [c for c in part.columns if c in row_columns]
        batch = definition.get_batch(batch_parameters={"dataframe": _to_pandas(part.select(columns))})
        result = batch.validate(batch_suite, expectation_parameters=parameters, result_format="SUMMARY")
        for res in result.results:
            index = int(res.expectation_config.meta["_index"])
            total = totals.setdefault(index, {"exp": suite.expectations[index]})
            _accumulate(total, res, part, offset, sample_columns)
    outcomes = [_finish(totals[i], frame.height, parameters, rate_block_min_rows) for i in sorted(totals)]
    for e in row_count_rules:
        low = _substitute(e.min_value, parameters)
        high = _substitute(e.max_value, parameters)
        ok = (low is None or frame.height >= low) and (high is None or frame.height <= high)
        outcomes.append(
            ExpectationOutcome(
                expectation=e.expectation_type, rule=_rule(e), column=None, severity=_severity(e),
                success=ok, observed_value=f"{frame.height} rows (expected {low} to {high})",
            )
        )
    return SuiteOutcome(suite=suite.name, rows=frame.height, batches=batches, outcomes=outcomes)


def _columns_of(expectation) -> list[str]:
    kwargs = expectation.configuration.kwargs
    cols = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")]
    return [c for c in cols if c] + list(kwargs.get("column_list") or [])


def _aggregate_ok(expectation) -> bool:
    """Column aggregates such as max/min hold for the whole iff they hold for every batch."""
    return expectation.expectation_type.startswith(("expect_column_max", "expect_column_min"))


def _accumulate(total: dict, res, part: pl.DataFrame, offset: int, sample_columns) -> None:
    r = res.result or {}
    total.setdefault("success", True)
    total["success"] = total["success"] and bool(res.success)
    info = res.exception_info or {}
    errors = [v.get("exception_message") for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    if info.get("raised_exception"):
        errors.append(info.get("exception_message"))
    if errors:
        total["error"] = "; ".join(str(e) for e in errors if e)
    for key in ("element_count", "unexpected_count", "missing_count"):
        if r.get(key) is not None:
            total[key] = total.get(key, 0) + int(r[key])
    if "observed_value" in r:
        total["observed_value"] = r["observed_value"]
    values = total.setdefault("unexpected_values", [])
    values.extend(v for v in (r.get("partial_unexpected_list") or []) if len(values) < 20)
    samples = total.setdefault("sample_rows", [])
    idx = [i for i in (r.get("partial_unexpected_index_list") or []) if isinstance(i, int)]
    if idx and len(samples) < SAMPLE_ROWS:
        cols = [c for c in (sample_columns or part.columns) if c in part.columns]
        picked = part[idx[: SAMPLE_ROWS - len(samples)]].select(cols)
        for row_number, row in zip(idx, picked.iter_rows(named=True)):
            samples.append({"_row": offset + row_number + 1, **{k: _jsonable(v) for k, v in row.items()}})


def _finish(total: dict, rows: int, parameters: dict, rate_block_min_rows: int) -> ExpectationOutcome:
    e = total["exp"]
    column = getattr(e, "column", None)
    outcome = ExpectationOutcome(
        expectation=e.expectation_type,
        rule=_rule(e),
        column=column,
        severity=_severity(e),
        success=bool(total.get("success", False)) and "error" not in total,
        observed_value=_jsonable(total.get("observed_value")),
        unexpected_values=[_jsonable(v) for v in total.get("unexpected_values", [])],
        sample_rows=total.get("sample_rows", []),
        error=total.get("error"),
    )
    if "unexpected_count" in total:
        element = total.get("element_count", rows)
        nonmissing = element - total.get("missing_count", 0)
        unexpected = total["unexpected_count"]
        outcome.element_count = element
        outcome.unexpected_count = unexpected
        outcome.unexpected_percent = 100.0 * unexpected / nonmissing if nonmissing else 0.0
        mostly = _substitute(getattr(e, "mostly", 1.0), parameters) or 1.0
        share_ok = 1.0 - (unexpected / nonmissing if nonmissing else 0.0)
        # a rule may set its own floor (`meta.block_min_rows`): an impossible date blocks at a
        # small share however small the extract, where an unknown code does not
        floor = int((e.meta or {}).get("block_min_rows", rate_block_min_rows))
        small = mostly < 1.0 and unexpected <= floor
        outcome.success = outcome.error is None and (share_ok >= mostly - 1e-12 or small)
    return outcome


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)
