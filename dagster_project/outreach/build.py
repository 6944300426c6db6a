"""Publish the outreach plan through Dagster and summarise it (for `dagster_project.run`)."""

from __future__ import annotations

import dagster as dg

from dagster_project.lib.zones import Zones
from dagster_project.ops.jobs import execute_job


def publish_plan(zones: Zones, instance: dg.DagsterInstance | None = None) -> bool:
    result = execute_job("publish_outreach_plan", instance, zones=zones)
    if not result.success:
        print("outreach/plan FAILED: see the Dagster run log")
        return False
    meta = result.asset_materializations_for_node("outreach__plan")[0].metadata
    print(f"\nOutreach plan {meta['run_date'].value}: {meta['people'].value:,} people, one conversation each; "
          f"files for {meta['practices_with_files'].value} approved practices under {meta['path'].value}")
    for key, label in (("by_channel", "channel"), ("by_status", "status"), ("dq_returns_by_kind", "DQ return")):
        for line in meta[key].value.splitlines()[2:]:
            name, n = [c.strip() for c in line.strip("|").split("|")]
            print(f"  {label:<10} {name:<40} {n:>8}")
    return True
