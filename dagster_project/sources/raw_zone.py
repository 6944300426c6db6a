"""The raw zone: typed Parquet, versioned per source table and extract date.

Append-only and versioned. Each accepted load of an extract becomes an immutable version
folder holding its data and its audit together:

    raw/<source>/<table>/extract_date=<d>/versions/0001/{data.parquet, audit.json}
    raw/<source>/<table>/extract_date=<d>/data.parquet -> versions/0002/data.parquet

`data.parquet` is a relative symbolic link to the newest valid version: what every reader
(the Python readers here and the dbt `published` macros, which glob
`extract_date=*/data.parquet`) sees. A re-delivered extract with different bytes becomes a
new version; the previous one stays readable with its audit.

Write-audit-publish: a load is staged under `.staging/<id>/` (never globbed), validated,
its audit written beside it, then the folder is renamed into `versions/` and the link is
swapped with one `os.replace`. Data and audit become visible in that one atomic step: a
process killed at any moment leaves the old version visible or the new one, never a
partition without its audit or with another version's. A failed audit moves the staged file
and the report to quarantine; nothing is created under the partition.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from pathlib import Path

import polars as pl

from dagster_project.lib.files import fsync_file, sha256_file, write_json_atomic
from dagster_project.sources.registry import TableSpec

PARTITION_FILE = "data.parquet"
AUDIT_FILE = "audit.json"
DATA_SHA256 = "data_sha256"  # audit key: SHA-256 of the version's data.parquet
VERSIONS = "versions"
STAGING = ".staging"


def partition_dir(raw_dir: Path, spec: TableSpec, extract_date: str) -> Path:
    return raw_dir / spec.source / spec.table / f"extract_date={extract_date}"


def partition_file(raw_dir: Path, spec: TableSpec, extract_date: str) -> Path:
    """The current (newest valid) version of a partition, as readers see it."""
    return partition_dir(raw_dir, spec, extract_date) / PARTITION_FILE


def every_extract(raw_dir: Path, spec: TableSpec) -> Path:
    """The glob over every published extract of a table: what the warehouse reads (dbt's
    sources location, dbt_project.yml; tests/unit/test_dbt_sources.py keeps them equal)."""
    return partition_file(raw_dir, spec, "*")


def stage(frame: pl.DataFrame, raw_dir: Path, spec: TableSpec, extract_date: str) -> Path:
    """Write a load to a staging folder of its table (same filesystem, so renames are atomic).

    Nothing is created under the partition itself until publish: a rejected extract leaves
    no empty `extract_date=` folder behind.
    """
    root = raw_dir / spec.source / spec.table / STAGING
    root.mkdir(parents=True, exist_ok=True)
    for debris in root.iterdir():  # left by a run killed mid-write; one writer per table (pool)
        shutil.rmtree(debris, ignore_errors=True) if debris.is_dir() else debris.unlink(missing_ok=True)
    folder = root / uuid.uuid4().hex
    folder.mkdir()
    staged = folder / PARTITION_FILE
    frame.write_parquet(staged, compression="zstd", statistics=True)
    fsync_file(staged)  # durable before it can become visible
    return staged


def versions(raw_dir: Path, spec: TableSpec, extract_date: str) -> list[int]:
    """Version numbers held for a partition, oldest first."""
    root = partition_dir(raw_dir, spec, extract_date) / VERSIONS
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and (p / PARTITION_FILE).exists())


def version_file(raw_dir: Path, spec: TableSpec, extract_date: str, version: int) -> Path:
    return partition_dir(raw_dir, spec, extract_date) / VERSIONS / f"{version:04d}" / PARTITION_FILE


def current_version(raw_dir: Path, spec: TableSpec, extract_date: str) -> int | None:
    """The version readers see (None: nothing published, or a pre-versioning partition)."""
    link = partition_file(raw_dir, spec, extract_date)
    if not link.is_symlink():
        return None
    return int(Path(os.readlink(link)).parent.name)


def _adopt_legacy(raw_dir: Path, spec: TableSpec, extract_date: str) -> None:
    """A partition written before versioning (plain data.parquet + audit.json) becomes version 1."""
    folder = partition_dir(raw_dir, spec, extract_date)
    legacy = folder / PARTITION_FILE
    if legacy.is_symlink() or not legacy.is_file() or versions(raw_dir, spec, extract_date):
        return
    tmp = raw_dir / spec.source / spec.table / STAGING / f"legacy-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    try:
        os.link(legacy, tmp / PARTITION_FILE)
    except OSError:
        shutil.copy2(legacy, tmp / PARTITION_FILE)
    if (folder / AUDIT_FILE).exists():
        shutil.copy2(folder / AUDIT_FILE, tmp / AUDIT_FILE)
    (folder / VERSIONS).mkdir(exist_ok=True)
    os.rename(tmp, folder / VERSIONS / "0001")


def publish(staged: Path, raw_dir: Path, spec: TableSpec, extract_date: str, audit: dict) -> Path:
    """Make a staged load the partition's newest version, data and audit in one atomic step."""
    folder = partition_dir(raw_dir, spec, extract_date)
    folder.mkdir(parents=True, exist_ok=True)
    _adopt_legacy(raw_dir, spec, extract_date)
    (folder / VERSIONS).mkdir(exist_ok=True)
    version = max(versions(raw_dir, spec, extract_date), default=0) + 1
    # the version's own bytes by SHA-256 (`sha256` is the delivered file's), hashed once here
    # so that a warehouse build records what it read without re-reading it (warehouse/manifest.py)
    audit = {**audit, "version": version, DATA_SHA256: sha256_file(staged)}
    write_json_atomic(staged.with_name(AUDIT_FILE), audit)
    target = folder / VERSIONS / f"{version:04d}"
    os.rename(staged.parent, target)  # refuses to overwrite an existing version
    pointer = folder / f".current-{uuid.uuid4().hex}"
    os.symlink(Path(VERSIONS) / target.name / PARTITION_FILE, pointer)
    os.replace(pointer, folder / PARTITION_FILE)  # the one step that makes it visible
    if (folder / AUDIT_FILE).exists() and not (folder / AUDIT_FILE).is_symlink():
        (folder / AUDIT_FILE).unlink()  # a pre-versioning audit, now kept in versions/0001
    return folder / PARTITION_FILE


def discard(staged: Path | None) -> None:
    if staged is not None and staged.parent.parent.name == STAGING:
        shutil.rmtree(staged.parent, ignore_errors=True)


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
    # never a link (it could point at any file the platform can read), only a regular file
    if delivered is not None and not delivered.is_symlink() and delivered.is_file():
        shutil.copy2(delivered, folder / delivered.name, follow_symlinks=False)
    if staged is not None and staged.exists():
        os.replace(staged, folder / "staged.parquet")
        discard(staged)
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


def read_audit(
    raw_dir: Path, spec: TableSpec, extract_date: str, version: int | None = None
) -> dict | None:
    """The audit of the current version (or of `version`): always the one of the data read."""
    folder = partition_dir(raw_dir, spec, extract_date)
    if version is None:
        link = folder / PARTITION_FILE
        path = (folder / os.readlink(link)).parent / AUDIT_FILE if link.is_symlink() else folder / AUDIT_FILE
    else:
        path = version_file(raw_dir, spec, extract_date, version).with_name(AUDIT_FILE)
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


def landing_fingerprint(path: Path) -> dict:
    """What the landing sensor compares cheaply each minute: name, size and modification time."""
    st = path.stat()
    return {"name": path.name, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
