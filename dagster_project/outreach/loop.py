"""The outcomes loop of the demo: the previous month's releases are worked by a simulated
outreach team, their outcomes land, and what the contacts caused is in the next extract.

`make run` on a synthetic ICS with extracts ..., M-1, M (`dagster_project.run`):

1. `held_back` names M: every extract dated M waits in landing while the platform runs as
   it did a month ago - ingest up to M-1, link, build the warehouse (as of M-1);
2. `close_previous_loop` publishes every project's release of M-1 and its outreach plan;
   the simulated outreach team (dagster_project.synthetic.outreach) works the plan's dated
   worklists (channel as planned) and returns outcomes for contacts up to the day before M,
   delivered to `landing/outreach/<M - 1 day>/outcomes.csv` (a landing folder of its own:
   landing is never overwritten); and the synthetic practices record what the contacts
   caused (vaccinations, screening tests, BP readings, DPP referrals at the effect sizes of
   the literature, `synthetic.outreach.record_caused_uptake`) in the GP events extract of
   M, which nothing has ingested yet (the extract is cut on M, after the outreach month);
3. `make run` then ingests M and the outcomes like any delivery and refreshes the
   warehouse as of M.

The build as of M holds the outcomes, so `mart_outreach_uptake` has rows and each release
of M reports uptake after contact among the people of M-1, with a real difference between
the contacted and the not yet contacted. Run once: a delivery of outcomes already in
landing, or fewer than two extracts, leave everything as it is. When M was ingested before
the loop ran (a partition materialised by hand), the loop still publishes, simulates and
ingests the outcomes (building as of M-1 and back as of M) but cannot record any effect of
contact. Only for synthetic data: real outcomes come from the outreach team.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from dagster_project.lib.zones import Zones
from dagster_project.ops.jobs import execute_job
from dagster_project.sources import raw_zone
from dagster_project.sources.landing import discover_extracts
from dagster_project.sources.registry import load_registry


def loop_dates(zones: Zones) -> tuple[str, str, str] | None:
    """(previous release date M-1, outcomes delivery date M - 1 day, newest month M) from the
    landed GP extracts, or None when there is no previous month."""
    dates = discover_extracts(zones.landing, "gp").dates
    if len(dates) < 2:
        return None
    delivery = dt.date.fromisoformat(dates[-1]) - dt.timedelta(days=1)
    return dates[-2], delivery.isoformat(), dates[-1]


def _ingested(zones: Zones, month: str) -> bool:
    return month in raw_zone.published_dates(zones.raw, load_registry()["gp__events"])


def held_back(zones: Zones) -> str | None:
    """The newest month M when the outcomes loop is still to run and M is not yet ingested:
    extracts dated M wait until last month's outreach has happened."""
    found = loop_dates(zones)
    if found is None:
        return None
    _, delivery, month = found
    if (zones.landing / "outreach" / delivery).exists() or _ingested(zones, month):
        return None
    return month


def close_previous_loop(zones: Zones, instance: dg.DagsterInstance | None = None, seed: int = 0) -> bool:
    """Publish the previous month, simulate its outcomes and what they caused; False on a
    failure. With M held back (the warehouse is as of M-1) the caller ingests M and the
    outcomes afterwards; else the loop builds as of M-1, ingests the outcomes and builds back
    as of M itself. Prints what it did."""
    from dagster_project.cohorts.build import publish_all
    from dagster_project.outreach.build import publish_plan
    from dagster_project.sources.partitions import PARTITIONS
    from dagster_project.synthetic.outreach import record_caused_uptake, simulate_outreach
    from dagster_project.warehouse.build import materialise_warehouse

    instance = instance or dg.DagsterInstance.ephemeral()
    found = loop_dates(zones)
    if found is None:
        print("outcomes loop: fewer than two extracts, no previous release to follow up")
        return True
    previous, delivery, month = found
    if (zones.landing / "outreach" / delivery).exists():
        print(f"outcomes loop: outcomes for {delivery} already delivered; not simulated again")
        return True
    waiting = not _ingested(zones, month)
    print(f"\nOutcomes loop: publishing the releases of {previous}, then simulating the outreach team's "
          f"outcomes up to {delivery}" + ("" if waiting else f" (the extract of {month} is already ingested: "
                                                                "no effect of contact can be recorded)"))
    if not waiting and not materialise_warehouse(zones, instance, reference_date=previous).success:
        print(f"outcomes loop: the warehouse build as of {previous} FAILED")
        return False
    if not publish_all(zones, instance) or not publish_plan(zones, instance):
        return False
    landed = simulate_outreach(zones, previous, delivery, seed=seed)
    if waiting:
        caused = record_caused_uptake(zones, landed, month, seed=seed)
        print(f"outcomes loop: {landed} delivered; {caused:,} vaccinations, screening tests, BP checks and "
              f"referrals caused by the contacts recorded in the GP extract of {month}")
        return True
    partitions = PARTITIONS["outreach"]
    if delivery not in instance.get_dynamic_partitions(partitions.name):
        instance.add_dynamic_partitions(partitions.name, [delivery])
    result = execute_job("ingest_outreach", instance, zones=zones, partition_key=delivery)
    print(f"outcomes loop: {landed} {'ingested' if result.success else 'FAILED at the gate'}")
    if not result.success:
        return False
    # back to the newest month: the warehouse as of the newest extract, outcomes included
    return materialise_warehouse(zones, instance).success
