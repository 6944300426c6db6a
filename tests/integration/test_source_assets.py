"""The ingest assets through Dagster: checks recorded, a blocking failure stops downstream."""

from __future__ import annotations

import dagster as dg
import pytest

from dagster_project.resources import PlatformResource
from dagster_project.sources.assets import GATE, RAW_ASSETS, WARNINGS
from dagster_project.sources.partitions import PARTITIONS
from tests.conftest import patients_frame, write_landing

PATIENTS = dg.AssetKey(["raw", "gp", "patients"])
EVENTS = dg.AssetKey(["raw", "gp", "events"])


def test_definitions_load_with_every_source_table():
    from dagster_project.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/gp/patients", "raw/acute/apc", "raw/outreach/outcomes"} <= keys
    assert defs.resolve_sensor_def("landing_sensor")
    assert defs.resolve_schedule_def("monthly_ingest_gp")


@pytest.fixture
def gp_assets():
    return [a for a in RAW_ASSETS if a.key.path[1] == "gp"]


def _run(zones, assets, extract_date, instance):
    instance.add_dynamic_partitions(PARTITIONS["gp"].name, [extract_date])
    return dg.materialize(
        assets,
        selection=[PATIENTS, EVENTS],
        partition_key=extract_date,
        instance=instance,
        resources={"platform": PlatformResource(data_dir=str(zones.data_dir))},
        raise_on_error=False,
    )


def _events_csv(frame):
    rows = ["event_id,patient_id,practice_code,event_date,snomed_code,value,unit"]
    for i, (pid, practice) in enumerate(zip(frame["patient_id"], frame["practice_code"])):
        rows.append(f"E{i},{pid},{practice},2025-01-01,38341003,,")
    return "\n".join(rows) + "\n"


def test_blocking_gate_stops_downstream_and_records_the_check(zones, gp_assets):
    instance = dg.DagsterInstance.ephemeral()
    good = patients_frame()
    write_landing(zones, "gp", "patients", "2026-10-01", good)
    write_landing(zones, "gp", "events", "2026-10-01", _events_csv(good))
    ok = _run(zones, gp_assets, "2026-10-01", instance)
    assert ok.success
    checks = {e.asset_check_key.name: e.passed for e in ok.get_asset_check_evaluations()}
    assert checks[GATE] is True
    # the verdict belongs to the extract date: the UI shows it against the partition
    assert {e.partition for e in ok.get_asset_check_evaluations()} == {"2026-10-01"}

    bad = good.with_columns(good["sex"].scatter(list(range(20)), "Q"))
    write_landing(zones, "gp", "patients", "2026-11-01", bad)
    write_landing(zones, "gp", "events", "2026-11-01", _events_csv(good))
    failed = _run(zones, gp_assets, "2026-11-01", instance)
    assert not failed.success
    evaluations = {(e.asset_key, e.asset_check_key.name): e for e in failed.get_asset_check_evaluations()}
    gate = evaluations[(PATIENTS, GATE)]
    assert not gate.passed and "sex is an allowed value" in gate.metadata["failing_expectations"].value
    assert (PATIENTS, WARNINGS) in evaluations
    # downstream (events of the same extract) never ran; nothing was materialised
    assert failed.get_asset_materialization_events() == []
    step_keys = {e.step_key for e in failed.all_events if e.is_step_start}
    assert step_keys == {"raw__gp__patients"}
    assert not (zones.raw / "gp" / "events" / "extract_date=2026-11-01").exists()


def test_a_range_run_records_each_extract_dates_verdict_on_its_partition(zones):
    """A backfill of several dates is one run (single_run policy); each date's gate and
    warnings verdicts still land on its own partition, none is left 'planned'."""
    instance = dg.DagsterInstance.ephemeral()
    dates = ["2026-09-01", "2026-10-01"]
    for d in dates:
        write_landing(zones, "gp", "patients", d, patients_frame())
    instance.add_dynamic_partitions(PARTITIONS["gp"].name, dates)
    result = dg.materialize(
        [a for a in RAW_ASSETS if a.key == PATIENTS], instance=instance, raise_on_error=False,
        resources={"platform": PlatformResource(data_dir=str(zones.data_dir))},
        tags={"dagster/asset_partition_range_start": dates[0], "dagster/asset_partition_range_end": dates[-1]})
    assert result.success
    for check in (GATE, WARNINGS):
        history = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(PATIENTS, check), limit=10)
        by_partition = {r.partition: r.status.value for r in history if r.partition}
        assert by_partition == {d: "SUCCEEDED" for d in dates}, (check, by_partition)
