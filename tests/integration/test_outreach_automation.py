"""The outreach plan is part of the automation chain: a new cohort release triggers it,
once, after every release of the run has landed (dg.evaluate_automation_conditions, the
same evaluation the `downstream_refresh` sensor runs)."""

from __future__ import annotations

import dagster as dg

from dagster_project.cohorts.assets import CONTACT_DETAILS, PROJECTS, RELEASE
from dagster_project.ops.policies import OUTREACH_GROUP
from dagster_project.outreach.assets import PLAN


def test_a_new_cohort_release_triggers_the_outreach_plan(tmp_path, monkeypatch):
    from dagster._core.test_utils import create_run_for_test

    from dagster_project.definitions import defs

    monkeypatch.setenv("PHM_DATA_DIR", str(tmp_path / "data"))
    graph = defs.resolve_asset_graph()
    assert graph.get(PLAN).automation_condition is not None
    sensor = next(s for s in defs.sensors if s.name == "downstream_refresh")
    assert PLAN in sensor.asset_selection.resolve(graph)
    assert OUTREACH_GROUP == graph.get(PLAN).group_name
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        cursor = None

        def tick() -> dg.AutomationResult:
            nonlocal cursor
            result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor,
                                                       asset_selection=dg.AssetSelection.assets(PLAN))
            cursor = result.cursor
            return result

        # the plan and its upstream exist already: nothing new, nothing to do
        for key in (CONTACT_DETAILS, dg.AssetKey(["warehouse", "mart_outreach_contact_needs"]),
                    dg.AssetKey(["warehouse", "stg_outreach__outcomes"]), PLAN):
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        for pid in PROJECTS:
            instance.report_runless_asset_event(dg.AssetMaterialization(RELEASE, partition=pid))
        tick()
        instance.report_runless_asset_event(dg.AssetMaterialization(PLAN))
        assert tick().get_num_requested(PLAN) == 0
        # a new release of one project lands while the others are still publishing: wait
        instance.report_runless_asset_event(dg.AssetMaterialization(RELEASE, partition=next(iter(PROJECTS))))
        busy = create_run_for_test(instance, job_name="publish_cohorts", status=dg.DagsterRunStatus.STARTED)
        assert tick().get_num_requested(PLAN) == 0
        instance.report_run_canceled(busy)
        # the chain is idle: the plan of the new release date is requested, once
        assert tick().get_num_requested(PLAN) == 1
        instance.report_runless_asset_event(dg.AssetMaterialization(PLAN))
        assert tick().get_num_requested(PLAN) == 0
