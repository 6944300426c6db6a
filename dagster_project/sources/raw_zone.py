"""The raw zone: typed Parquet, one file per source table and extract date.

Write-audit-publish: a load is written to a staging file, audited, then published with
one atomic rename (`os.replace`), so a reader sees the old partition or the new one and
never a mix, even if the process is killed mid-publish. A failed audit sends the staged
file, a copy of the delivered file and the report to quarantine; the published partition
is left exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from pathlib import Path

import polars as pl

from dagster_project.lib.files import fsync_file, write_json_atomic
from dagster_project.sources.registry import TableSpec

PARTITION_FILE = "data.parquet"
AUDIT_FILE = "audit.json"


def partition_dir(raw_dir: Path, spec: TableSpec, extract_date: str) -> Path:
    return raw_dir / spec.source / spec.table / f"extract_date={extract_date}"


def partition_file(raw_dir: Path, spec: TableSpec, extract_date: str) -> Path:
    return partition_dir(raw_dir, spec, extract_date) / PARTITION_FILE


def stage(frame: pl.DataFrame, raw_dir: Path, spec: TableSpec, extract_date: str) -> Path:
    """Write a load to a staging file beside its partition (same filesystem, so rename is atomic)."""
    target = partition_dir(raw_dir, spec, extract_date)
    target.mkdir(parents=True, exist_ok=True)
    for debris in target.glob(".staging-*"):  # left by a run killed mid-write; never data
        debris.unlink(missing_ok=True)
    staged = target / f".staging-{uuid.uuid4().hex}.parquet"
    frame.write_parquet(staged, compression="zstd", statistics=True)
    fsync_file(staged)  # durable before it can become visible
    return staged


def publish(staged: Path, raw_dir: Path, spec: TableSpec, extract_date: str, audit: dict) -> Path:
    """Swap the staged file in as the partition, atomically; then record its audit."""
    final = partition_file(raw_dir, spec, extract_date)
    os.replace(staged, final)
    write_json_atomic(final.with_name(AUDIT_FILE), audit)
    return final


def discard(staged: Path | None) -> None:
    if staged is not None and staged.exists():
        staged.unlink()


def quarantine(
    quarantine_dir: Path,
    spec: TableSpec,
    extract_date: str,
    delivered: Path | None,
    staged: Path | None,
    report: dict,
) -> Path:
    """Keep a failed load for inspection: a copy of the delivered file, the staged load, the report.

    The delivered file is copied, never moved: landing is read-only to the platform.
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = quarantine_dir / spec.source / spec.table / extract_date / stamp
    folder.mkdir(parents=True, exist_ok=True)
    if delivered is not None and delivered.is_file():
        shutil.copy2(delivered, folder / delivered.name)
    if staged is not None and staged.exists():
        os.replace(staged, folder / "staged.parquet")
    write_json_atomic(folder / "report.json", report)
    return folder


def published_dates(raw_dir: Path, spec: TableSpec) -> list[str]:
    """Extract dates with a published partition, oldest first."""
    root = raw_dir / spec.source / spec.table
    if not root.is_dir():
        return []
    return sorted(
        p.name.split("=", 1)[1]
        for p in root.iterdir()
        if p.name.startswith("extract_date=") and (p / PARTITION_FILE).exists()
    )


def read_audit(raw_dir: Path, spec: TableSpec, extract_date: str) -> dict | None:
    path = partition_dir(raw_dir, spec, extract_date) / AUDIT_FILE
    return json.loads(path.read_text()) if path.exists() else None


def scan_published(raw_dir: Path, spec: TableSpec) -> pl.LazyFrame | None:
    """What downstream consumers see of a table: only published partitions.

    Snapshot: the newest extract. Increment: every extract, a record key seen again
    keeping its latest version. `_extract_date` says which extract each row came from.
    """
    dates = published_dates(raw_dir, spec)
    if not dates:
        return None
    if spec.kind == "snapshot":
        newest = dates[-1]
        return pl.scan_parquet(partition_file(raw_dir, spec, newest)).with_columns(
            pl.lit(dt.date.fromisoformat(newest)).alias("_extract_date")
        )
    frames = [
        pl.scan_parquet(partition_file(raw_dir, spec, d)).with_columns(
            pl.lit(dt.date.fromisoformat(d)).alias("_extract_date")
        )
        for d in dates
    ]
    history = pl.concat(frames, how="diagonal_relaxed")
    return history.sort("_extract_date").unique(
        subset=list(spec.record_key), keep="last", maintain_order=True
    )


