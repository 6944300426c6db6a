"""Operations: wiring, run-failure alerts (JSON lines + webhook), the downstream refresh
sensor, backfill run counts (daemon and CLI), and dbt failures that are not retried."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.ops import alerts
from dagster_project.ops.concurrency import IDENTITY_POOL, WAREHOUSE_POOL, raw_pool
from dagster_project.ops.policies import (
    AUTOMATION_BY_GROUP,
    TRANSIENT_RETRY,
    area,
    raise_unless_dbt_succeeded,
)
from dagster_project.resources import PlatformResource
from dagster_project.sources.assets import RAW_ASSETS
from dagster_project.sources.partitions import PARTITIONS
from tests.conftest import patients_frame, write_landing

REPO = Path(__file__).resolve().parents[2]
PATIENTS = dg.AssetKey(["raw", "gp", "patients"])


@pytest.fixture(scope="module")
def defs():
    from dagster_project.definitions import defs

    return defs


# --- wiring -----------------------------------------------------------------------------


def test_sensors_and_jobs_of_the_refresh_chain(defs):
    for name in ("downstream_refresh", "alert_on_run_failure", "landing_sensor", "label_automation_runs"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    assert isinstance(defs.resolve_sensor_def("downstream_refresh"), dg.AutomationConditionSensorDefinition)
    refresh = defs.resolve_job_def("refresh_warehouse")
    keys = {k.to_user_string() for k in refresh.asset_layer.selected_asset_keys}
    assert {"identity/person_index", "identity/pseudo_keys", "warehouse/dim_person"} <= keys
    assert "identity/linkage_model" not in keys  # trained on demand only
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node, name = graph.get(key), key.to_user_string()
        if name == "identity/linkage_model" or name.startswith("raw/") \
                or area(node.group_name) not in AUTOMATION_BY_GROUP:
            assert node.automation_condition is None, name  # on demand / the landing sensor
        else:  # identity, warehouse, cohorts, projection follow their upstream, set once by group
            assert node.automation_condition is not None, name
            assert "chain_idle" in str(node.automation_condition.get_label() or "") or \
                any(c.name == "chain_idle" for c in _leaves(node.automation_condition)), name


def _leaves(condition):
    children = condition.children
    return [condition] if not children else [leaf for c in children for leaf in _leaves(c)]


def test_pools_retries_freshness_and_owners_are_applied(defs):
    graph = defs.resolve_asset_graph()
    by_key = {k.to_user_string(): graph.get(k) for k in graph.get_all_asset_keys()}
    for key, node in by_key.items():
        assert node.owners, f"{key} names no owner"
        op = node.assets_def.node_def
        if key.startswith("raw/"):
            _, source, table = key.split("/")
            assert op.pool == raw_pool(source, table) and op.retry_policy == TRANSIENT_RETRY
        elif node.group_name.startswith("warehouse"):
            assert op.pool == WAREHOUSE_POOL and op.retry_policy == TRANSIENT_RETRY
            assert node.freshness_policy is not None
        elif node.group_name == "identity" and key != "identity/contact_details":
            assert op.pool == IDENTITY_POOL
        elif node.group_name == "cohorts":
            assert node.freshness_policy is not None  # a stale release shows as such
            assert op.pool == WAREHOUSE_POOL  # reads warehouse.duckdb: never beside a dbt build


def test_deployed_instance_configs_give_every_pool_one_slot(tmp_path):
    import yaml

    for name in ("dagster.yaml", "dagster.postgres.yaml"):
        config = yaml.safe_load((REPO / "deploy" / name).read_text())
        assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "deploy" / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.event_log_storage.supports_global_concurrency_limits


# --- alerts -----------------------------------------------------------------------------


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Hook.received
    server.shutdown()
    server.server_close()


def _failed_gp_run(zones, instance) -> dg.ExecuteInProcessResult:
    good = patients_frame()
    bad = good.with_columns(good["sex"].scatter(list(range(20)), "Q"))
    write_landing(zones, "gp", "patients", "2026-11-01", bad)
    instance.add_dynamic_partitions(PARTITIONS["gp"].name, ["2026-11-01"])
    return dg.materialize(
        [a for a in RAW_ASSETS if a.key == PATIENTS], partition_key="2026-11-01", instance=instance,
        resources={"platform": PlatformResource(data_dir=str(zones.data_dir))}, raise_on_error=False)


def test_run_failure_sensor_writes_the_alert_and_posts_the_webhook(zones, webhook, monkeypatch, tmp_path):
    url, received = webhook
    monkeypatch.setenv("PHM_DATA_DIR", str(zones.data_dir))
    monkeypatch.setenv(alerts.WEBHOOK_ENV, url)
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        result = _failed_gp_run(zones, instance)
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure", dagster_event=failure, dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"platform": PlatformResource(data_dir=str(zones.data_dir))}).for_run_failure()
        alerts.alert_on_run_failure(context)

    lines = (zones.data_dir / "alerts" / "alerts.jsonl").read_text().splitlines()
    assert len(lines) == 1
    alert = json.loads(lines[0])
    assert alert["run_id"] == result.run_id and alert["partition"] == "2026-11-01"
    assert alert["assets"] == ["raw/gp/patients"]
    assert alert["failed_steps"][0]["step"] == "raw__gp__patients"
    assert "Extract stopped at the gate" in alert["failed_steps"][0]["error"]
    gate = {c["check"]: c for c in alert["failed_checks"]}["gx_suite"]
    assert gate["blocking"] and gate["asset"] == "raw/gp/patients"
    assert "sex is an allowed value" in gate["failing_expectations"]
    assert len(received) == 1 and received[0]["alert"] == alert
    assert "blocking check(s) failed: raw/gp/patients:gx_suite" in received[0]["text"]


def test_a_webhook_that_is_down_never_stops_the_alert(tmp_path):
    record = {"run_id": "r1", "job": "ingest_gp", "partition": None, "failed_checks": [], "message": "boom"}
    with HTTPServer(("127.0.0.1", 0), _Hook) as closed:
        port = closed.server_address[1]  # bound, then closed below: nothing listens there
    problem = alerts.deliver(record, tmp_path / "alerts.jsonl", f"http://127.0.0.1:{port}/hook")
    assert problem and "failed" in problem
    assert json.loads((tmp_path / "alerts.jsonl").read_text())["run_id"] == "r1"


# --- declarative automation of the chain -------------------------------------------------


def test_automation_links_and_builds_once_after_new_extracts_then_publishes(defs, zones, monkeypatch, tmp_path):
    from dagster._core.test_utils import create_run_for_test

    monkeypatch.setenv("PHM_DATA_DIR", str(zones.data_dir))
    refresh_keys = set(defs.resolve_job_def("refresh_warehouse").asset_layer.selected_asset_keys)
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        cursor = None

        def tick():
            nonlocal cursor
            result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
            cursor = result.cursor
            return {k for k in refresh_keys | set(defs.resolve_asset_graph().get_all_asset_keys())
                    if result.get_num_requested(k)}, result

        assert tick()[0] == set()  # nothing ingested yet: nothing to refresh
        write_landing(zones, "gp", "patients", "2026-10-01", patients_frame())
        instance.add_dynamic_partitions(PARTITIONS["gp"].name, ["2026-10-01"])
        assert dg.materialize([a for a in RAW_ASSETS if a.key == PATIENTS], partition_key="2026-10-01",
                              instance=instance, resources={"platform": PlatformResource()}).success
        # while any run of the chain is queued or in flight, nothing is requested
        busy = create_run_for_test(instance, job_name="ingest_acute", status=dg.DagsterRunStatus.STARTED)
        assert tick()[0] == set()
        instance.report_run_canceled(busy)
        requested, _ = tick()
        assert {"identity/person_records", "identity/person_index", "identity/pseudo_keys",
                "warehouse/dim_person"} <= {k.to_user_string() for k in requested}
        assert requested <= refresh_keys  # one run: link and build; not the model, not the releases
        assert tick()[0] == set()  # one run per upstream state: not requested again
        # the refresh ran: the releases follow, one run per Protect NoW project
        for key in requested:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        _, result = tick()
        release = dg.AssetKey(["cohorts", "release"])
        if release in defs.resolve_asset_graph().get_all_asset_keys():
            from dagster_project.cohorts.assets import PROJECTS

            assert result.get_requested_partitions(release) == set(PROJECTS)


def test_failing_dbt_tests_are_not_retried_but_errors_are():
    class Invocation:
        def __init__(self, statuses):
            self.statuses = statuses

        def is_successful(self):
            return not self.statuses

        def get_artifact(self, name):
            return {"results": [{"unique_id": f"node{i}", "status": s, "message": "m"}
                                for i, s in enumerate(self.statuses)]}

    raise_unless_dbt_succeeded(Invocation([]))
    with pytest.raises(dg.Failure) as failed_test:
        raise_unless_dbt_succeeded(Invocation(["pass", "fail"]))
    assert failed_test.value.allow_retries is False
    with pytest.raises(RuntimeError, match="node0"):
        raise_unless_dbt_succeeded(Invocation(["error"]))


# --- backfills: how many runs ---------------------------------------------------------------


def _backfill_runs(instance, asset_keys, partitions) -> list[dg.DagsterRun]:
    """Submit an asset backfill as the UI does and let the backfill daemon plan it."""
    from dagster._core.execution.backfill import PartitionBackfill
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.utils import make_new_backfill_id
    from dagster._core.workspace.load_target import ModuleTarget
    from dagster._daemon.backfill import execute_backfill_iteration

    target = ModuleTarget(module_name="dagster_project.definitions", attribute=None,
                          working_directory=str(REPO), location_name="phm")
    with create_test_daemon_workspace_context(target, instance) as workspace:
        backfill_id = make_new_backfill_id()
        instance.add_backfill(PartitionBackfill.from_asset_partitions(
            backfill_id=backfill_id, asset_graph=workspace.create_request_context().asset_graph,
            partition_names=partitions, asset_selection=asset_keys, backfill_timestamp=time.time(),
            tags={}, dynamic_partitions_store=instance, all_partitions=False, title=None,
            description=None, run_config=None))
        for _ in range(3):
            list(execute_backfill_iteration(workspace, logging.getLogger("backfill")))
        return instance.get_runs(filters=dg.RunsFilter.for_backfill(backfill_id))


@pytest.fixture
def mocked_launch_instance(tmp_path):
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home"), overrides={
        "run_launcher": {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"},
        "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
    }) as instance:
        yield instance


@pytest.mark.slow
def test_backfill_of_a_range_of_extract_dates_is_one_run(mocked_launch_instance):
    instance = mocked_launch_instance
    dates = ["2026-09-01", "2026-10-01", "2026-11-01"]
    instance.add_dynamic_partitions(PARTITIONS["acute"].name, dates)
    keys = [dg.AssetKey(["raw", "acute", t]) for t in ("apc", "ecds", "opa")]
    runs = _backfill_runs(instance, keys, dates)
    print(f"\nbackfill of 3 acute extract dates x 3 tables: {len(runs)} run(s)")
    assert len(runs) == 1  # single-run backfill policy: the whole range in one run
    tags = runs[0].tags
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        "2026-09-01", "2026-11-01")


@pytest.mark.slow
def test_backfill_of_one_cohort_project_is_one_run_of_that_partition(defs, mocked_launch_instance):
    graph = defs.resolve_asset_graph()
    releases = [k for k in graph.get_all_asset_keys()
                if graph.get(k).group_name == "cohorts" and graph.get(k).partitions_def is not None]
    if not releases:
        pytest.skip("no partitioned asset in the cohorts group yet")
    project = graph.get(releases[0]).partitions_def.get_partition_keys()[0]
    runs = _backfill_runs(mocked_launch_instance, releases, [project])
    print(f"\nre-publishing project {project}: {len(runs)} run(s)")
    assert len(runs) == 1
    assert runs[0].tags.get("dagster/partition") == project or (
        runs[0].tags.get("dagster/asset_partition_range_start") == project
        and runs[0].tags.get("dagster/asset_partition_range_end") == project)


@pytest.mark.slow
def test_cli_partition_range_loads_every_extract_in_one_run(zones, tmp_path):
    from tests.integration.test_source_assets import _events_csv

    dates = ["2026-09-01", "2026-10-01", "2026-11-01"]
    for d in dates:
        write_landing(zones, "gp", "patients", d, patients_frame())
        write_landing(zones, "gp", "events", d, _events_csv(patients_frame()))
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "deploy" / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(PARTITIONS["gp"].name, dates)
    env = {**os.environ, "DAGSTER_HOME": str(home), "PHM_DATA_DIR": str(zones.data_dir)}
    env.pop("PHM_LANDING_DIR", None)
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "dagster_project.definitions",
         "--select", "raw/gp/patients,raw/gp/events", "--partition-range", f"{dates[0]}...{dates[-1]}"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        print(f"\nCLI --partition-range over 3 gp extracts x 2 tables: {len(runs)} run(s)")
        assert len(runs) == 1 and runs[0].is_success
    for d in dates:
        assert (zones.raw / "gp" / "patients" / f"extract_date={d}" / "data.parquet").exists()
