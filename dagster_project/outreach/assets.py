"""Dagster asset of the outreach plan (a thin wrapper over `outreach.release`)."""

import dagster as dg

from dagster_project.cohorts import publish
from dagster_project.cohorts.assets import CONTACT_DETAILS, RELEASE
from dagster_project.lib.audit_who import launched_by
from dagster_project.ops.concurrency import WAREHOUSE_POOL
from dagster_project.outreach import release
from dagster_project.resources import PlatformResource

PLAN = dg.AssetKey(["outreach", "plan"])


@dg.asset(
    key=PLAN,
    group_name="outreach",
    deps=[RELEASE, CONTACT_DETAILS, dg.AssetKey(["warehouse", "mart_outreach_contact_needs"]),
          dg.AssetKey(["warehouse", "stg_outreach__outcomes"])],
    description=(
        "The outreach plan of the newest release date: one conversation per person across "
        "projects (every reason), channel by rule (interpreter need, project channel order, "
        "usable phone / mobile / address), contact fatigue, dated worklists within the team's "
        "capacity per channel (outreach.yaml) with carry-over; per approved practice a call "
        "worklist, SMS batch, letter mail-merge and data-quality return, re-identified from the "
        "identity zone, gated and audited."
    ),
    owners=["team:population-health"],
    kinds={"polars", "parquet"},
    pool=WAREHOUSE_POOL,
)
def outreach_plan(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    try:
        out = release.publish_outreach(platform.zones, run_id=context.run_id, who=launched_by(context.run))
    except publish.ReleaseBlocked as blocked:
        raise dg.Failure(description=str(blocked), allow_retries=False) from blocked
    table = lambda d: dg.MetadataValue.md(  # noqa: E731
        "| | people |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in sorted(d.items())))
    return dg.MaterializeResult(metadata={
        "run_date": out.run_date, "people": out.people, "by_channel": table(out.by_channel),
        "by_status": table(out.by_status), "dq_returns_by_kind": table(out.dq_by_kind),
        "practices_with_files": len(out.practices), "path": dg.MetadataValue.path(str(out.path)),
    })


OUTREACH_ASSETS = [outreach_plan]
# the named job `make run` and the UI run (never an ad hoc asset job)
OUTREACH_JOB = dg.define_asset_job("publish_outreach_plan", selection=[PLAN])
