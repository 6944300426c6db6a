"""Publish every Protect NoW project through Dagster and summarise (for `dagster_project.run`).

    from dagster_project.cohorts.build import publish_all
    ok = publish_all(zones, instance)   # one run for contact details, one per project
"""

from __future__ import annotations

import dagster as dg

from dagster_project.cohorts import publish
from dagster_project.cohorts.assets import PROJECTS, cohort_release, contact_details
from dagster_project.lib.zones import Zones
from dagster_project.resources import PlatformResource


def publish_all(zones: Zones, instance: dg.DagsterInstance | None = None) -> bool:
    """Refresh identity/contact_details, then materialise every project's partition of
    cohorts/release; print cohort sizes, Core20 share and where the releases are."""
    resources = {"platform": PlatformResource(data_dir=str(zones.data_dir), landing_dir=str(zones.landing))}
    tags = {"trigger": "make_run"}
    result = dg.materialize([contact_details], instance=instance, resources=resources,
                            raise_on_error=False, tags=tags)
    if not result.success:
        print("identity/contact_details FAILED: see the Dagster run log")
        return False
    lines = ["", "Protect NoW releases (pseudonymised cohort, summary, report; call lists for approved practices):",
             f"  {'project':<22} {'run date':<11} {'cohort':>8} {'Core20':>8} {'call lists':>11}  report"]
    ok = True
    for pid in PROJECTS:
        run = dg.materialize([cohort_release], partition_key=pid, instance=instance, resources=resources,
                             raise_on_error=False, tags=tags)
        pointer = publish.latest(zones, pid)
        if not run.success or pointer is None:
            ok = False
            lines.append(f"  {pid:<22} FAILED: a gate blocked the release (see the run log and "
                         f"{zones.published / pid / '.failed'}); latest unchanged")
            continue
        meta = run.asset_materializations_for_node("cohorts__release")[0].metadata
        lines.append(
            f"  {pid:<22} {meta['run_date'].value:<11} {meta['cohort_rows'].value:>8,} "
            f"{meta['core20_share'].value:>8.1%} {meta['direct_care_practices'].value:>5} pract.  "
            f"{meta['report'].value}")
    lines += [f"  releases: {zones.published}/<project>/<run_date>/ (latest.json per project); "
              f"audit log: {zones.published / publish.AUDIT_LOG}"]
    print("\n".join(lines))
    return ok
