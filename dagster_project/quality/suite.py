"""A Great Expectations suite and its verdict: what both validation paths share.

The suite document (GX 1.x JSON under expectations/) is parsed by GX itself, so GX stays
the definition of every rule: its types, kwargs, severity and meta. Whichever path
evaluates it (`engine.run_suite` in polars, the production path; `gx_runner.run_suite_gx`
on pandas batches, the reference), each expectation yields GX-shaped results
(`ExpectationValidationResult`, result format SUMMARY) that are folded into one
`ExpectationOutcome` per expectation here, so the two cannot word a verdict differently.

Severity comes from GX: `critical` blocks the extract; `warning` and `info` are reported
but do not stop it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from dagster_project.lib.chance import chance_excess

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402

SAMPLE_ROWS = 5
PARTIAL_VALUES = 20  # GX's SUMMARY result format keeps 20 unexpected values and indices
ROW_COUNT = "expect_table_row_count_to_be_between"


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
    engine: str = "polars"  # what evaluated the rules: polars (whole extract) | gx-pandas

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
            "engine": self.engine,
            "passed": self.passed,
            "outcomes": [asdict(o) for o in self.outcomes],
        }


def load_suite(path: Path) -> dict:
    """A suite document (GX 1.x JSON) from expectations/."""
    if not path.exists():
        raise FileNotFoundError(f"no Great Expectations suite at {path}")
    return json.loads(path.read_text())


def parse_suite(suite_doc: dict) -> gx.ExpectationSuite:
    """The suite as GX reads it (GX validates each expectation's type and kwargs)."""
    return gx.ExpectationSuite(**{k: v for k, v in suite_doc.items() if k != "id"})


def severity(expectation) -> str:
    return "blocking" if str(getattr(expectation.severity, "value", "critical")) == "critical" else "warning"


def rule(expectation) -> str:
    meta = expectation.meta or {}
    return meta.get("rule") or expectation.description or expectation.expectation_type


def substitute(value: Any, parameters: dict) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


def row_count_outcome(expectation, rows: int, parameters: dict) -> ExpectationOutcome:
    """Table row counts are judged on the whole extract by either path."""
    low = substitute(expectation.min_value, parameters)
    high = substitute(expectation.max_value, parameters)
    ok = (low is None or rows >= low) and (high is None or rows <= high)
    return ExpectationOutcome(
        expectation=expectation.expectation_type, rule=rule(expectation), column=None,
        severity=severity(expectation), success=ok,
        observed_value=f"{rows} rows (expected {low} to {high})",
    )


def accumulate(total: dict, res, part: pl.DataFrame, offset: int, sample_columns) -> None:
    """Fold one GX result (of one batch, or of the whole extract) into an expectation's total."""
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
    values.extend(v for v in (r.get("partial_unexpected_list") or []) if len(values) < PARTIAL_VALUES)
    samples = total.setdefault("sample_rows", [])
    idx = [i for i in (r.get("partial_unexpected_index_list") or []) if isinstance(i, int)]
    if idx and len(samples) < SAMPLE_ROWS:
        cols = [c for c in (sample_columns or part.columns) if c in part.columns]
        picked = part[idx[: SAMPLE_ROWS - len(samples)]].select(cols)
        for row_number, row in zip(idx, picked.iter_rows(named=True)):
            samples.append({"_row": offset + row_number + 1, **{k: jsonable(v) for k, v in row.items()}})


def finish(total: dict, rows: int, parameters: dict, rate_block_min_rows: int) -> ExpectationOutcome:
    """One expectation's verdict from its total; `mostly` is applied to the whole extract.

    A rate rule (an expectation with `mostly` below 1) blocks only when its failures are
    above the rate, more than `rate_block_min_rows` rows and more than chance adds to what the
    rate allows: two bad NHS numbers in a 35-row social care extract are 6%, and not a reason
    to stop it.
    """
    e = total["exp"]
    column = getattr(e, "column", None)
    outcome = ExpectationOutcome(
        expectation=e.expectation_type,
        rule=rule(e),
        column=column,
        severity=severity(e),
        success=bool(total.get("success", False)) and "error" not in total,
        observed_value=jsonable(total.get("observed_value")),
        unexpected_values=[jsonable(v) for v in total.get("unexpected_values", [])],
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
        mostly = substitute(getattr(e, "mostly", 1.0), parameters) or 1.0
        share_ok = 1.0 - (unexpected / nonmissing if nonmissing else 0.0)
        # a rule may set its own floor (`meta.block_min_rows`): an impossible date blocks at a
        # small share however small the extract, where an unknown code does not. Otherwise
        # the floor is the registry's, or the failures the rate allows plus what chance adds
        # to them (lib.chance), whichever is more: 11 invalid NHS numbers in 476 outpatient
        # rows (2.3%) against a 2% rule is chance at that size, 2,300 in 100,000 is not
        own = (e.meta or {}).get("block_min_rows")
        allowed = (1.0 - mostly) * nonmissing
        floor = int(own) if own is not None else max(
            rate_block_min_rows, int(allowed + chance_excess(allowed)))
        small = mostly < 1.0 and unexpected <= floor
        outcome.success = outcome.error is None and (share_ok >= mostly - 1e-12 or small)
    return outcome


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)
