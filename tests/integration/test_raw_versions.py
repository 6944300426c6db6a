"""Raw is append-only and versioned: a re-delivery is a new version, the old one stays
readable with its own audit, readers see the newest, and a re-run on unchanged bytes
re-ingests nothing and rewrites no audit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl

from dagster_project.sources import raw_zone
from dagster_project.sources.ingest import ingest_partition
from dagster_project.sources.registry import load_registry
from tests.conftest import patients_frame, write_landing

SPEC = load_registry()["gp__patients"]
D = "2026-10-01"


def test_redelivery_is_a_new_version_and_the_old_stays_readable_with_its_audit(zones):
    write_landing(zones, "gp", "patients", D, patients_frame(100))
    first = ingest_partition(zones, SPEC, D, run_id="run-1")
    assert first.published and first.version == 1
    write_landing(zones, "gp", "patients", D, patients_frame(103))  # resent with 3 more rows
    second = ingest_partition(zones, SPEC, D, run_id="run-2",
                              launched_by={"user": "jane", "trigger": "sensor:landing_sensor"})
    assert second.published and second.version == 2
    assert raw_zone.versions(zones.raw, SPEC, D) == [1, 2]
    # readers (Python and the dbt glob through DuckDB) see the newest version
    assert raw_zone.scan_published(zones.raw, SPEC).collect().height == 103
    glob = str(zones.raw / "gp" / "patients" / "extract_date=*" / "data.parquet")
    assert duckdb.sql(f"select count(*) from read_parquet('{glob}')").fetchone()[0] == 103
    assert raw_zone.read_audit(zones.raw, SPEC, D)["run_id"] == "run-2"
    assert raw_zone.read_audit(zones.raw, SPEC, D)["launched_by"]["user"] == "jane"  # who
    # the old version, with the audit of when it was accepted
    old = pl.read_parquet(raw_zone.version_file(zones.raw, SPEC, D, 1))
    assert old.height == 100
    assert raw_zone.read_audit(zones.raw, SPEC, D, version=1)["run_id"] == "run-1"
    assert raw_zone.read_audit(zones.raw, SPEC, D, version=1)["sha256"] != second.sha256


def test_unchanged_bytes_are_not_reingested_and_the_audit_is_not_rewritten(zones):
    write_landing(zones, "gp", "patients", D, patients_frame(100))
    assert ingest_partition(zones, SPEC, D, run_id="run-1").published
    audit_path = raw_zone.version_file(zones.raw, SPEC, D, 1).with_name("audit.json")
    before = (audit_path.read_bytes(), audit_path.stat().st_mtime_ns)
    reports = sorted((zones.reports / "validation").rglob("*.json"))
    again = ingest_partition(zones, SPEC, D, run_id="run-2")
    assert again.published and again.unchanged and again.version == 1
    assert raw_zone.versions(zones.raw, SPEC, D) == [1]
    assert (audit_path.read_bytes(), audit_path.stat().st_mtime_ns) == before
    assert sorted((zones.reports / "validation").rglob("*.json")) == reports  # no new report
    assert raw_zone.read_audit(zones.raw, SPEC, D)["run_id"] == "run-1"


def test_a_partition_written_before_versioning_is_kept_as_version_one(zones):
    folder = raw_zone.partition_dir(zones.raw, SPEC, D)
    folder.mkdir(parents=True)
    patients_frame(10).write_parquet(folder / "data.parquet")
    (folder / "audit.json").write_text(json.dumps({"rows": 10, "run_id": "legacy"}))
    write_landing(zones, "gp", "patients", D, patients_frame(12))
    assert ingest_partition(zones, SPEC, D).published
    assert raw_zone.versions(zones.raw, SPEC, D) == [1, 2]
    assert raw_zone.read_audit(zones.raw, SPEC, D, version=1)["run_id"] == "legacy"
    assert pl.read_parquet(raw_zone.version_file(zones.raw, SPEC, D, 1)).height == 10
    assert raw_zone.scan_published(zones.raw, SPEC).collect().height == 12


CHILD = """
import os, sys, polars as pl
from pathlib import Path
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry
spec = load_registry()["gp__patients"]
raw = Path(sys.argv[1])
frame = pl.read_parquet(sys.argv[2])
i = 0
while True:  # publish new versions again and again until killed
    i += 1
    staged = raw_zone.stage(frame.head(frame.height - i % 7), raw, spec, "2026-10-01")
    raw_zone.publish(staged, raw, spec, "2026-10-01", {"rows": frame.height - i % 7})
"""


def test_data_and_audit_become_visible_together_under_random_kills(tmp_path: Path):
    """Killed at random moments while publishing: the visible data always has its own audit."""
    import random
    import signal
    import time

    raw = tmp_path / "raw"
    source = tmp_path / "frame.parquet"
    patients_frame(2000).write_parquet(source)
    rng = random.Random(12)
    trials = 12
    for _ in range(trials):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(raw), str(source)], start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        time.sleep(rng.uniform(1.0, 2.0))
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        if not raw_zone.published_dates(raw, SPEC):
            continue
        visible = pl.read_parquet(raw_zone.partition_file(raw, SPEC, "2026-10-01"))
        audit = raw_zone.read_audit(raw, SPEC, "2026-10-01")
        assert audit is not None and audit["rows"] == visible.height
    assert len(raw_zone.versions(raw, SPEC, "2026-10-01")) > trials
