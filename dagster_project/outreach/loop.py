"""The outcomes loop of the demo: the previous month's releases are worked by a simulated
outreach team and their outcomes land before this month's releases are built.

`make run` on a synthetic ICS with extracts ..., M-1, M calls `close_previous_loop` after
the refresh (linkage and the build of M) and before the releases of M:

1. build the warehouse as of M-1 (every rule is evaluated as of the reference date) and
   publish every project's release of M-1 and its outreach plan, as the platform did a
   month ago;
2. the simulated outreach team (dagster_project.synthetic.outreach) works the plan's dated
   worklists (channel as planned) and returns outcomes for contacts up to the day before M, delivered to
   `landing/outreach/<M - 1 day>/outcomes.csv` (a landing folder of its own: landing is never
   overwritten);
3. that extract is ingested through the `ingest_outreach` job like any delivery, and the
   warehouse is built again as of M.

The build as of M then holds the outcomes (staging reads every outreach extract on or before
the reference date), so `mart_outreach_uptake` has rows and each release of M reports uptake
after contact among the people of M-1. Run once: a delivery already in landing, or fewer
than two extracts, leave everything as it is. Only for synthetic data: real outcomes come
from the outreach team.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from dagster_project.lib.zones import Zones
from dagster_project.ops.jobs import execute_job
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry


def loop_dates(zones: Zones) -> tuple[str, str] | None:
    """(previous release date, outcomes delivery date) or None when there is no previous
    month (fewer than two published gp.patients extracts)."""
    dates = raw_zone.published_dates(zones.raw, load_registry()["gp__patients"])
    if len(dates) < 2:
        return None
    delivery = dt.date.fromisoformat(dates[-1]) - dt.timedelta(days=1)
    return dates[-2], delivery.isoformat()


def close_previous_loop(zones: Zones, instance: dg.DagsterInstance | None = None, seed: int = 0) -> bool:
    """Publish the previous month, simulate and ingest its outcomes; False on a failure.
    Prints what it did."""
    from dagster_project.cohorts.build import publish_all
    from dagster_project.sources.partitions import PARTITIONS
    from dagster_project.synthetic.outreach import simulate_outreach
    from dagster_project.warehouse.build import materialise_warehouse

    instance = instance or dg.DagsterInstance.ephemeral()
    found = loop_dates(zones)
    if found is None:
        print("outcomes loop: fewer than two extracts, no previous release to follow up")
        return True
    previous, delivery = found
    if (zones.landing / "outreach" / delivery).exists():
        print(f"outcomes loop: outcomes for {delivery} already delivered; not simulated again")
        return True
    print(f"\nOutcomes loop: publishing the releases of {previous} (warehouse as of {previous}), "
          f"then simulating the outreach team's outcomes up to {delivery}")
    if not materialise_warehouse(zones, instance, reference_date=previous).success:
        print(f"outcomes loop: the warehouse build as of {previous} FAILED")
        return False
    if not publish_all(zones, instance):
        return False
    from dagster_project.outreach.build import publish_plan

    if not publish_plan(zones, instance):
        return False
    landed = simulate_outreach(zones, previous, delivery, seed=seed)
    partitions = PARTITIONS["outreach"]
    if delivery not in instance.get_dynamic_partitions(partitions.name):
        instance.add_dynamic_partitions(partitions.name, [delivery])
    result = execute_job("ingest_outreach", instance, zones=zones, partition_key=delivery)
    print(f"outcomes loop: {landed} {'ingested' if result.success else 'FAILED at the gate'}")
    if not result.success:
        return False
    # back to the newest month: the warehouse as of the newest extract, outcomes included
    return materialise_warehouse(zones, instance).success
