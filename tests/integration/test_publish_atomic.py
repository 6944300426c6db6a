"""A process killed while publishing leaves the old partition or the new one, never a mix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry

SPEC = load_registry()["gp__patients"]
CHILD = """
import sys, polars as pl
from pathlib import Path
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry
spec = load_registry()["gp__patients"]
raw = Path(sys.argv[1])
frame = pl.read_parquet(sys.argv[2])
while True:  # publish the new version again and again until killed
    staged = raw_zone.stage(frame, raw, spec, "2026-10-01")
    raw_zone.publish(staged, raw, spec, "2026-10-01", {"rows": frame.height})
"""


def test_kill_during_publish_leaves_old_or_new(tmp_path: Path):
    from tests.conftest import patients_frame

    raw = tmp_path / "raw"
    old = patients_frame(50_000).with_columns(pl.lit("old").alias("given_name"))
    new = patients_frame(60_000).with_columns(pl.lit("new").alias("given_name"))
    staged = raw_zone.stage(old, raw, SPEC, "2026-10-01")
    raw_zone.publish(staged, raw, SPEC, "2026-10-01", {"rows": old.height})
    new_file = tmp_path / "new.parquet"
    new.write_parquet(new_file)
    seen = set()
    for delay in (0.3, 0.5, 0.8, 1.1, 1.7):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(raw), str(new_file)],
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        time.sleep(delay)
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        published = pl.read_parquet(raw_zone.partition_file(raw, SPEC, "2026-10-01"))
        names = set(published["given_name"].unique())
        assert names in ({"old"}, {"new"})
        assert published.height == (50_000 if names == {"old"} else 60_000)
        seen |= names
    # staging debris from a killed run is never read as data
    assert raw_zone.published_dates(raw, SPEC) == ["2026-10-01"]
    assert seen  # at least one state observed each time
