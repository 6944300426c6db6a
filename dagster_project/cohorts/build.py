"""Publish every Protect NoW project through the Definitions' jobs and summarise.

    from dagster_project.cohorts.build import publish_all, releases_summary
    ok = publish_all(zones, instance)   # contact details, then publish_cohorts per project
    print(releases_summary(zones))
"""

from __future__ import annotations

import dagster as dg

from dagster_project.cohorts import publish
from dagster_project.cohorts.assets import CONTACT_DETAILS, PROJECTS
from dagster_project.lib.zones import Zones
from dagster_project.ops.jobs import execute_job


def publish_all(zones: Zones, instance: dg.DagsterInstance | None = None) -> bool:
    """Refresh identity/contact_details (its step of `refresh_warehouse`), then run
    `publish_cohorts` for every project's partition. False when any of them failed."""
    contact = execute_job("refresh_warehouse", instance, zones=zones, asset_selection=[CONTACT_DETAILS])
    if not contact.success:
        return False
    results = [execute_job("publish_cohorts", instance, zones=zones, partition_key=pid) for pid in PROJECTS]
    return all(r.success for r in results) and all(publish.latest(zones, pid) for pid in PROJECTS)


def releases_summary(zones: Zones) -> str:
    """Each project's latest release: run date, cohort size, Core20 share, call lists, report."""
    lines = ["", "Protect NoW releases (pseudonymised cohort, summary, report; call lists for approved practices):",
             f"  {'project':<22} {'run date':<11} {'cohort':>8}  report"]
    for pid in PROJECTS:
        pointer = publish.latest(zones, pid)
        if pointer is None:
            lines.append(f"  {pid:<22} no release: a gate blocked it (see the run log and "
                         f"{zones.published / pid / '.failed'})")
            continue
        release = zones.published / pid / pointer["run_date"]
        lines.append(f"  {pid:<22} {pointer['run_date']:<11} {pointer.get('rows', 0):>8,}  "
                     f"{release / 'report.html'}")
    lines += [f"  releases: {zones.published}/<project>/<run_date>/ (latest.json per project); "
              f"audit log: {zones.published / publish.AUDIT_LOG}"]
    return "\n".join(lines)
