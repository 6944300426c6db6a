"""Materialise the projection report through Dagster and summarise it (for `dagster_project.run`).

    from dagster_project.projection.build import build_projection
    ok = build_projection(zones, instance)   # prints the headline table and the back-test error
"""

from __future__ import annotations

import dagster as dg

from dagster_project.lib.zones import Zones
from dagster_project.projection.assets import headline_markdown, projection_report
from dagster_project.projection.report import ics_series, read_tables
from dagster_project.resources import PlatformResource


def build_projection(zones: Zones, instance: dg.DagsterInstance | None = None) -> bool:
    """Materialise projection/report; print its headlines; False when it failed."""
    result = dg.materialize(
        [projection_report], instance=instance,
        resources={"platform": PlatformResource(data_dir=str(zones.data_dir), landing_dir=str(zones.landing))},
        raise_on_error=False, tags={"trigger": "make_run"})
    if not result.success:
        print("projection report FAILED: see the Dagster run log")
        return False
    meta = result.asset_materializations_for_node("projection__report")[0].metadata
    tables = read_tables(zones)
    print("\nLooking ahead (projection; principal with low-high interval):")
    print(headline_markdown(ics_series(tables)))
    if "backtest_mean_abs_pct_error" in meta:
        print(f"back-test mean absolute error over ICS measures: "
              f"{meta['backtest_mean_abs_pct_error'].value:.1%} "
              f"(nothing-changes: {meta['backtest_naive_mean_abs_pct_error'].value:.1%})")
    print(f"projection report: {meta['report'].value}")
    return True
