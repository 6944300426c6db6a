"""The production instance (deploy/dagster.postgres.yaml) against a real PostgreSQL server.

The test creates a throwaway cluster with Debian's PostgreSQL binaries
(/usr/lib/postgresql/<version>/bin, installed by scripts/install_system_deps.sh) in a
temporary directory, as the `postgres` user when run as root, listening on 127.0.0.1 on a
free port only; materialises one gp extract through Dagster with that instance; checks
that the run, its event log, the dynamic partitions, the pool slots and a schedule state
are rows in PostgreSQL; and stops the server.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.resources import PlatformResource
from dagster_project.sources.assets import RAW_ASSETS
from dagster_project.sources.partitions import PARTITIONS
from tests.conftest import patients_frame, write_landing

REPO = Path(__file__).resolve().parents[2]
DB, USER, PASSWORD = "dagster", "dagster", "test-only-password"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server on 127.0.0.1:<free port>, data in a temp dir; stopped afterwards."""
    bindir = _bin_dir()
    if bindir is None:
        reason = "PostgreSQL is not installed (scripts/install_system_deps.sh)"
        if os.environ.get("PHM_REQUIRE_SYSTEM_TESTS"):
            pytest.fail(reason + " (PHM_REQUIRE_SYSTEM_TESTS is set)")
        pytest.skip(reason)
    psycopg2 = pytest.importorskip("psycopg2")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="phm-pg-"))
    if as_postgres:
        shutil.chown(base, "postgres", "postgres")
    data, log, port = base / "data", base / "server.log", _free_port()
    subprocess.run([*as_postgres, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True, timeout=120)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
    subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
                    "-l", str(log), "-w", "-t", "60", "start"], check=True, capture_output=True, timeout=90)
    try:
        admin = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f"create role {USER} login password '{PASSWORD}'")
            cur.execute(f"create database {DB} owner {USER}")
        admin.close()
        yield {"host": "127.0.0.1", "port": port}
    finally:
        subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def test_production_instance_keeps_runs_events_and_schedules_in_postgres(postgres, zones, tmp_path, monkeypatch):
    import psycopg2

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.postgres.yaml", home / "dagster.yaml")
    for name, value in {"DAGSTER_PG_HOST": postgres["host"], "DAGSTER_PG_PORT": str(postgres["port"]),
                        "DAGSTER_PG_DB": DB, "DAGSTER_PG_USER": USER, "DAGSTER_PG_PASSWORD": PASSWORD}.items():
        monkeypatch.setenv(name, value)
    write_landing(zones, "gp", "patients", "2026-11-01", patients_frame())

    with dg.DagsterInstance.from_config(str(home)) as instance:
        kinds = {type(s).__name__ for s in (instance.run_storage, instance.event_log_storage,
                                             instance.schedule_storage)}
        assert kinds == {"PostgresRunStorage", "PostgresEventLogStorage", "PostgresScheduleStorage"}
        instance.add_dynamic_partitions(PARTITIONS["gp"].name, ["2026-11-01"])
        result = dg.materialize(
            [a for a in RAW_ASSETS if a.key == dg.AssetKey(["raw", "gp", "patients"])],
            partition_key="2026-11-01", instance=instance,
            resources={"platform": PlatformResource(data_dir=str(zones.data_dir))})
        assert result.success
        # the pool of the raw table was used and has the configured single slot
        pool = instance.event_log_storage.get_concurrency_info("raw_gp_patients")
        assert pool.slot_count == 1
        # a schedule state written through the instance lands in PostgreSQL too
        from dagster._core.definitions.run_request import InstigatorType
        from dagster._core.scheduler.instigation import (
            InstigatorState,
            InstigatorStatus,
            ScheduleInstigatorData,
        )

        origin = _schedule_origin()
        instance.add_instigator_state(InstigatorState(
            origin, InstigatorType.SCHEDULE, InstigatorStatus.RUNNING,
            ScheduleInstigatorData("0 7 3 * *", start_timestamp=0.0)))

    con = psycopg2.connect(host=postgres["host"], port=postgres["port"], user=USER, password=PASSWORD, dbname=DB)
    try:
        with con.cursor() as cur:
            cur.execute("select status from runs where run_id = %s", (result.run_id,))
            assert cur.fetchone()[0] == "SUCCESS"
            cur.execute("select count(*) from event_logs where run_id = %s", (result.run_id,))
            assert cur.fetchone()[0] > 10
            cur.execute("select count(*) from event_logs where run_id = %s and dagster_event_type = "
                        "'ASSET_CHECK_EVALUATION'", (result.run_id,))
            assert cur.fetchone()[0] == 2  # gx_suite and gx_warnings
            cur.execute("select partition from dynamic_partitions where partitions_def_name = %s",
                        (PARTITIONS["gp"].name,))
            assert cur.fetchall() == [("2026-11-01",)]
            cur.execute("select count(*) from jobs where job_type = 'SCHEDULE'")
            assert cur.fetchone()[0] == 1
    finally:
        con.close()


def _schedule_origin():
    """The remote origin of `monthly_ingest_gp` in the `phm` code location."""
    from dagster._core.remote_origin import (
        InProcessCodeLocationOrigin,
        RemoteInstigatorOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    location = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="dagster_project.definitions", working_directory=str(REPO)),
        location_name="phm")
    return RemoteInstigatorOrigin(RemoteRepositoryOrigin(location, "__repository__"), "monthly_ingest_gp")
