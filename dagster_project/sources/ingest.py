"""Ingest one extract of one table: read, stage, validate, then publish or quarantine.

A plain function (no Dagster) so it can be run, tested and timed alone; the asset in
`assets.py` is a thin wrapper that turns its result into metadata and check results.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dagster_project.lib.chance import chance_excess
from dagster_project.lib.errors import ExtractError
from dagster_project.lib.files import sha256_file, write_json_atomic
from dagster_project.lib.zones import Zones
from dagster_project.quality.derived import add_audit_columns
from dagster_project.quality.engine import run_suite
from dagster_project.quality.report import render_html, write_report
from dagster_project.quality.suite import SuiteOutcome, load_suite
from dagster_project.sources import landing, raw_zone
from dagster_project.sources.registry import TableSpec, load_registry, tables_of

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
    unchanged: bool = False  # the same bytes are already the published version: nothing done
    sha256: str | None = None
    version: int | None = None
    volume_override: dict | None = None

    @property
    def reason(self) -> str:
        """Why the extract was stopped, in one paragraph naming file, column/row and rule."""
        if self.error is not None:
            return str(self.error)
        if self.suite is not None and not self.suite.passed:
            failures = "; ".join(o.summary() for o in self.suite.blocking_failures)
            return f"{self.file}: blocked by suite {self.suite.suite}: {failures}"
        return ""


def volume_block_min(baseline: int, block_below: float, kind: str) -> int:
    """Fewest rows that still pass the volume gate. Snapshots (a whole population each month)
    block below `block_below` x last time, whatever their size; increments block there too,
    but never for a drop that chance alone explains at small counts (the Poisson floor)."""
    ratio_floor = int(baseline * block_below)
    if kind == "snapshot":
        return ratio_floor
    # an increment's monthly row count is a count of events, roughly Poisson around last
    # month's: a small practice's 22 admissions becoming 10 is chance, not a collapse
    return max(0, min(ratio_floor, int(baseline - chance_excess(baseline))))


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
        params["volume_block_min"] = volume_block_min(baseline, spec.volume.block_below, spec.kind)
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
    """Reports, UI metadata and alerts never carry identifiers: for an identifier column only
    counts and row numbers are kept (not a value, not a partly masked one, not a min/max)."""
    sensitive = set(spec.direct_identifiers) | set(spec.identity.values()) - {spec.identity.get("record_id")}
    for o in outcome.outcomes:
        if o.column in sensitive:
            o.unexpected_values = []
            if o.observed_value is not None and o.unexpected_count is None:
                o.observed_value = "(value of an identifier column: not shown)"
            if o.error:
                o.error = "the expectation raised an error (message withheld: identifier column)"
        for row in o.sample_rows:
            for name in list(row):
                if name in sensitive:
                    row[name] = "(withheld)"


def _volume_override(zones: Zones, spec: TableSpec, extract_date: str) -> tuple[Path, dict] | None:
    """A one-time, signed-off exception to the volume gate for one extract (README: Operations).

    `overrides/volume/<source>/<table>/<extract_date>.json` with `approved_by` and `reason`
    (a practice merger, a supplier's de-duplication). It is consumed by the load that uses
    it (moved to `overrides/volume/used/`) and recorded in that version's audit.
    """
    path = zones.data_dir / "overrides" / "volume" / spec.source / spec.table / f"{extract_date}.json"
    if not path.is_file():
        return None
    doc = json.loads(path.read_text())
    missing = [k for k in ("approved_by", "reason") if not str(doc.get(k) or "").strip()]
    if missing:
        raise ExtractError(path, "volume override is signed off", f"the override has no {missing}",
                           hint="an override names who approved it and why.")
    return path, doc


def _consume_override(zones: Zones, path: Path, doc: dict, run_id: str) -> dict:
    used = zones.data_dir / "overrides" / "volume" / "used"
    used.mkdir(parents=True, exist_ok=True)
    record = {**doc, "file": str(path), "used_by_run": run_id,
              "used_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    target = used / f"{path.parent.parent.name}__{path.parent.name}__{path.stem}__{uuid.uuid4().hex[:8]}.json"
    write_json_atomic(target, record)
    path.unlink()
    return record


def ingest_partition(
    zones: Zones, spec: TableSpec, extract_date: str, run_id: str = "",
    expectations_dir: Path = EXPECTATIONS_DIR, launched_by: dict | None = None,
) -> IngestResult:
    """Pull `landing/<source>/<extract_date>/<table>` into the raw zone, gated by its suite."""
    result = IngestResult(spec=spec, extract_date=extract_date, published=False)
    staged: Path | None = None
    override = None
    params, result.initial_load = gate_parameters(zones, spec, extract_date)
    extract_dir = zones.landing / spec.source / extract_date
    try:
        result.file = landing.find_table_file(extract_dir, spec.table)
        result.sha256 = sha256_file(result.file)
        current = raw_zone.read_audit(zones.raw, spec, extract_date)
        if current and current.get("sha256") == result.sha256 and raw_zone.current_version(
                zones.raw, spec, extract_date) is not None:
            # idempotent refresh: these bytes are already the published version; the audit
            # of when they were first accepted is left exactly as it is
            result.published, result.unchanged = True, True
            result.rows, result.version = int(current.get("rows", 0)), current.get("version")
            result.raw_path = raw_zone.partition_file(zones.raw, spec, extract_date)
            result.report_path = Path(current["report"]) if current.get("report") else None
            return result
        unknown = landing.unknown_table_files(extract_dir, tables_of(spec.source))
        override = _volume_override(zones, spec, extract_date)
        if override is not None:
            params["volume_block_min"] = 0
        loaded = landing.read_extract(result.file, spec)
        result.rows, result.columns = loaded.frame.height, loaded.frame.columns
        result.extra_columns, result.warnings = loaded.extra_columns, loaded.warnings
        if unknown:
            result.warnings.append(
                f"{len(unknown)} file(s) in the extract folder are no {spec.source} table of the "
                f"landing contract and were not loaded: {unknown}")
        staged = raw_zone.stage(loaded.frame, zones.raw, spec, extract_date)
        audited = add_audit_columns(loaded.frame, spec.record_key, spec.event_date, _births(zones, spec, extract_date))
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
        "sha256": result.sha256,
        "run_id": run_id,
        "launched_by": launched_by or {},
        "validated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    report_doc = {**facts, "error": result.error.as_metadata() if result.error else None,
                  "suite": result.suite.to_dict() if result.suite else None}
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    result.report_path = write_report(
        zones.reports / "validation" / spec.source / spec.table / extract_date / f"{stamp}.html",
        report_doc,
        render_html(result.suite, f"{spec.source}.{spec.table} extract {extract_date}", facts,
                    str(result.error) if result.error else None),
    )
    if result.error is None and result.suite is not None and result.suite.passed:
        assert staged is not None and result.file is not None
        if override is not None:
            result.volume_override = _consume_override(zones, *override, run_id)
        audit = {**facts, "landing": raw_zone.landing_fingerprint(result.file),
                 "bytes": result.file.stat().st_size, "report": str(result.report_path),
                 "warnings": [o.summary() for o in result.suite.warnings],
                 "volume_override": result.volume_override}
        result.raw_path = raw_zone.publish(staged, zones.raw, spec, extract_date, audit)
        result.version = raw_zone.current_version(zones.raw, spec, extract_date)
        result.published = True
    else:
        result.quarantine_path = raw_zone.quarantine(
            zones.quarantine, spec, extract_date, result.file, staged,
            {**report_doc, "reason": result.reason},
        )
    return result
