"""The projection report through the Definitions' `publish_projection` job, and its summary
(for `dagster_project.run`).

    from dagster_project.projection.build import build_projection, projection_summary
    ok = build_projection(zones, instance)
    print(projection_summary(zones))   # the headline table and the back-test error
"""

from __future__ import annotations

import contextlib

import dagster as dg

from dagster_project.lib.zones import Zones
from dagster_project.ops.jobs import execute_job
from dagster_project.projection.assets import REPORT, headline_markdown
from dagster_project.projection.report import ics_series, read_tables


def build_projection(zones: Zones, instance: dg.DagsterInstance | None = None) -> bool:
    """Materialise projection/report (job `publish_projection`); False when it failed."""
    return execute_job("publish_projection", instance, zones=zones).success


def projection_summary(zones: Zones, instance: dg.DagsterInstance | None = None) -> str:
    """The headline table, the back-test error and where the report is."""
    lines = ["", "Looking ahead (projection; principal with low-high interval):",
             headline_markdown(ics_series(read_tables(zones)))]
    with (dg.DagsterInstance.get() if instance is None else contextlib.nullcontext(instance)) as inst:
        event = inst.get_latest_materialization_event(REPORT)
    meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
    if "backtest_mean_abs_pct_error" in meta:
        lines.append(f"back-test mean absolute error over ICS measures: "
                     f"{meta['backtest_mean_abs_pct_error'].value:.1%} "
                     f"(nothing-changes: {meta['backtest_naive_mean_abs_pct_error'].value:.1%})")
    if "report" in meta:
        lines.append(f"projection report: {meta['report'].value}")
    return "\n".join(lines)
