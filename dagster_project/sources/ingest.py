"""Ingest one extract of one table: read, stage, validate, then publish or quarantine.

A plain function (no Dagster) so it can be run, tested and timed alone; the asset in
`assets.py` is a thin wrapper that turns its result into metadata and check results.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dagster_project.lib.errors import ExtractError
from dagster_project.lib.files import sha256_file
from dagster_project.lib.zones import Zones
from dagster_project.quality.derived import add_audit_columns
from dagster_project.quality.gx_runner import SuiteOutcome, load_suite, run_suite
from dagster_project.quality.report import render_html, write_report
from dagster_project.sources import landing, raw_zone
from dagster_project.sources.registry import TableSpec, load_registry

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
MIN_DATE = dt.datetime(1900, 1, 1)
FAR_FUTURE = dt.datetime(2200, 1, 1)


@dataclass
class IngestResult:
    spec: TableSpec
    extract_date: str
    published: bool
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    suite: SuiteOutcome | None = None
    error: ExtractError | None = None
    file: Path | None = None
    raw_path: Path | None = None
    quarantine_path: Path | None = None
    report_path: Path | None = None
    initial_load: bool = False

    @property
    def reason(self) -> str:
        """Why the extract was stopped, in one paragraph naming file, column/row and rule."""
        if self.error is not None:
            return str(self.error)
        if self.suite is not None and not self.suite.passed:
            failures = "; ".join(o.summary() for o in self.suite.blocking_failures)
            return f"{self.file}: blocked by suite {self.suite.suite}: {failures}"
        return ""


def gate_parameters(zones: Zones, spec: TableSpec, extract_date: str) -> tuple[dict, bool]:
    """Suite parameters for this extract, and whether it is an initial (history) load."""
    earlier = [d for d in raw_zone.published_dates(zones.raw, spec) if d < extract_date]
    initial = not earlier
    baseline = None
    for d in reversed(earlier):
        audit = raw_zone.read_audit(zones.raw, spec, d) or {}
        # an increment's first load carries history: compare with ordinary monthly ones
        if spec.kind == "snapshot" or not audit.get("initial_load", False):
            baseline = audit.get("rows")
            break
    params = {
        "extract_date": dt.datetime.fromisoformat(extract_date),
        "min_date": MIN_DATE,
        "far_future": FAR_FUTURE,
        "volume_block_min": 0,
        "volume_warn_min": 0,
        "volume_warn_max": None,
    }
    if baseline:
        params["volume_block_min"] = int(baseline * spec.volume.block_below)
        params["volume_warn_min"] = int(baseline * (1 - spec.volume.warn_change))
        params["volume_warn_max"] = int(baseline * (1 + spec.volume.warn_change)) + 1
    return params, initial


def _births(zones: Zones, spec: TableSpec, extract_date: str) -> pl.DataFrame | None:
    """Dates of birth from the GP patients extract of the same date, for GP journal tables."""
    if spec.source != "gp" or spec.table == "patients":
        return None
    patients = load_registry()["gp__patients"]
    path = raw_zone.partition_file(zones.raw, patients, extract_date)
    if not path.exists():
        return None
    return pl.read_parquet(path, columns=["practice_code", "patient_id", "date_of_birth"]).unique(
        subset=["practice_code", "patient_id"], keep="first"
    )


def _mask(outcome: SuiteOutcome, spec: TableSpec) -> None:
    """Reports and UI metadata must not carry identifiers: mask values of identifier columns."""
    for o in outcome.outcomes:
        if o.column in spec.direct_identifiers:
            o.unexpected_values = [_masked(v) for v in o.unexpected_values]


def _masked(value: object) -> str:
    text = str(value)
    return text[:2] + "*" * max(0, len(text) - 4) + text[-2:] if len(text) > 4 else "****"


def ingest_partition(
    zones: Zones, spec: TableSpec, extract_date: str, run_id: str = "", expectations_dir: Path = EXPECTATIONS_DIR
) -> IngestResult:
    """Pull `landing/<source>/<extract_date>/<table>` into the raw zone, gated by its suite."""
    result = IngestResult(spec=spec, extract_date=extract_date, published=False)
    staged: Path | None = None
    params, result.initial_load = gate_parameters(zones, spec, extract_date)
    try:
        result.file = landing.find_table_file(zones.landing / spec.source / extract_date, spec.table)
        loaded = landing.read_extract(result.file, spec)
        result.rows, result.columns = loaded.frame.height, loaded.frame.columns
        result.extra_columns, result.warnings = loaded.extra_columns, loaded.warnings
        staged = raw_zone.stage(loaded.frame, zones.raw, spec, extract_date)
        audited = add_audit_columns(loaded.frame, spec, _births(zones, spec, extract_date))
        del loaded
        sample_columns = [c for c in audited.columns if c not in spec.direct_identifiers]
        result.suite = run_suite(
            audited, load_suite(expectations_dir / f"{spec.suite}.json"), params,
            sample_columns=sample_columns, rate_block_min_rows=spec.rate_block_min_rows,
        )
        _mask(result.suite, spec)
        del audited
    except ExtractError as exc:
        result.error = exc
    except BaseException:
        raw_zone.discard(staged)  # an unexpected failure leaves no staging debris behind
        raise
    facts = {
        "table": f"{spec.source}.{spec.table}",
        "extract_date": extract_date,
        "file": result.file,
        "rows": result.rows,
        "extra_columns": result.extra_columns,
        "reader_warnings": result.warnings,
        "initial_load": result.initial_load,
        "run_id": run_id,
        "validated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    report_doc = {**facts, "error": result.error.as_metadata() if result.error else None,
                  "suite": result.suite.to_dict() if result.suite else None}
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    result.report_path = write_report(
        zones.reports / "validation" / spec.source / spec.table / extract_date / f"{stamp}.html",
        report_doc,
        render_html(result.suite, f"{spec.source}.{spec.table} extract {extract_date}", facts,
                    str(result.error) if result.error else None),
    )
    if result.error is None and result.suite is not None and result.suite.passed:
        assert staged is not None and result.file is not None
        audit = {**facts, "sha256": sha256_file(result.file),
                 "bytes": result.file.stat().st_size, "report": str(result.report_path),
                 "warnings": [o.summary() for o in result.suite.warnings]}
        result.raw_path = raw_zone.publish(staged, zones.raw, spec, extract_date, audit)
        result.published = True
    else:
        result.quarantine_path = raw_zone.quarantine(
            zones.quarantine, spec, extract_date, result.file, staged,
            {**report_doc, "reason": result.reason},
        )
    return result
