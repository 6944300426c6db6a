"""Automation runs execute Dagster's implicit asset job; each is tagged with its chain stage."""

import uuid

import dagster as dg

from dagster_project.ops.refresh import AUTOMATION_SENSOR, STAGE_TAG, label_stage, stage_of


def _run(instance, keys, tags):
    run = dg.DagsterRun(job_name="__ASSET_JOB", run_id=str(uuid.uuid4()), tags=tags,
                        asset_selection=frozenset(dg.AssetKey(k.split("/")) for k in keys))
    instance.add_run(run)
    return run


def test_each_automation_run_is_labelled_with_its_stage():
    instance = dg.DagsterInstance.ephemeral()
    by_sensor = {"dagster/sensor_name": AUTOMATION_SENSOR}
    refresh = _run(instance, ["identity/person_index", "warehouse/dim_person"], by_sensor)
    release = _run(instance, ["cohorts/release"], {**by_sensor, "dagster/partition": "dpp"})
    report = _run(instance, ["projection/report"], by_sensor)
    assert stage_of(_run(instance, ["outreach/plan"], by_sensor)) == "publish_outreach_plan"
    hand = _run(instance, ["cohorts/release"], {})  # launched from the UI: its job says what it is
    assert [label_stage(instance, r) for r in (refresh, release, report, hand)] == [
        "refresh_warehouse", "publish_cohorts", "publish_projection", None]
    tagged = {r.run_id: r.tags.get(STAGE_TAG) for r in instance.get_runs()}
    assert tagged[release.run_id] == "publish_cohorts" and tagged[hand.run_id] is None
    assert stage_of(_run(instance, ["sources/x"], by_sensor)) is None  # not a chain stage
