"""A run killed at any moment leaves no pool slot held: the next run of the pool recovers
without a hand (recover_dead_runs, run by the `free_slots_of_dead_runs` sensor and by
`make run` before it starts). Killed at random moments, including inside publish."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from dagster_project.ops.concurrency import ACTIVE, pid_alive, raw_pool, recover_dead_runs
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry
from tests.conftest import patients_frame

REPO = Path(__file__).resolve().parents[2]
SPEC = load_registry()["gp__patients"]
D = "2026-10-01"
POOL = raw_pool("gp", "patients")
CHILD = """
import sys, dagster as dg
from dagster_project.resources import PlatformResource
from dagster_project.sources.assets import RAW_ASSETS
from dagster_project.sources.partitions import PARTITIONS
asset = [a for a in RAW_ASSETS if a.key.path == ["raw", "gp", "patients"]][0]
with dg.DagsterInstance.get() as instance:
    instance.add_dynamic_partitions(PARTITIONS["gp"].name, [sys.argv[2]])
    print("started", flush=True)
    result = dg.materialize([asset], partition_key=sys.argv[2], instance=instance,
                            resources={"platform": PlatformResource(data_dir=sys.argv[1])},
                            raise_on_error=False)
    sys.exit(0 if result.success else 3)
"""


def _launch(home: Path, data: Path) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(data), D], env=env,
                            stdout=subprocess.PIPE, start_new_session=True)


def _wait_for_claim(home: Path, child: subprocess.Popen, timeout: float = 120.0) -> bool:
    """True once the run holds its pool slot; False if the run ended before a poll saw it
    (a fast step on a busy machine): that trial is then an 'any moment' kill."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and child.poll() is None:
            if instance.event_log_storage.get_concurrency_info(POOL).claimed_slots:
                return True
            time.sleep(0.01)
    return False


def test_pid_alive():
    assert pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)


@pytest.mark.slow
def test_runs_killed_at_random_moments_leave_no_slot_held(tmp_path):
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    landing = data / "landing" / "gp" / D
    landing.mkdir(parents=True)
    rng = random.Random(7)
    trials, held_after_kill, recovered = 8, 0, 0
    for trial in range(trials):
        # new bytes each time, so every run really stages and publishes a version
        patients_frame(30_000 + trial).write_csv(landing / "patients.csv")
        child = _launch(home, data)
        assert child.stdout.readline().strip() == b"started"  # dagster imported, run about to start
        if trial % 2:
            # any moment: before the run starts, while it stages, publishes or has finished
            time.sleep(rng.uniform(0.2, 4.0))
        else:
            # inside the step: a fast machine finishes the step in ~0.4 s, so a blind sleep
            # rarely lands there; wait for the claim, then kill a random moment into it
            if _wait_for_claim(home, child):
                time.sleep(rng.uniform(0.0, 0.1))
        with contextlib.suppress(ProcessLookupError):  # the run may already have ended
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        with dg.DagsterInstance.from_config(str(home)) as instance:
            claimed = instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
            held_after_kill += bool(claimed)
            recovered += len(recover_dead_runs(instance))
            assert not instance.get_runs(filters=dg.RunsFilter(statuses=list(ACTIVE)))
            assert not instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
        # the visible partition is always one whole version with its own audit
        if raw_zone.published_dates(data / "raw", SPEC):
            audit = raw_zone.read_audit(data / "raw", SPEC, D)
            assert audit["rows"] == pl.read_parquet(raw_zone.partition_file(data / "raw", SPEC, D)).height
    # the kills really did leave slots held (else this test proves nothing), and recovery freed them
    assert held_after_kill >= 2 and recovered >= held_after_kill
    patients_frame(29_000).write_csv(landing / "patients.csv")
    child = _launch(home, data)
    child.stdout.readline()
    assert child.wait(timeout=240) == 0  # the next run gets the slot and completes
