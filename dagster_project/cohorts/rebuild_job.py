"""The rebuild of a past release as a Dagster job an engineer launches from the UI.

Job `rebuild_release` (Launchpad config: the run date; optionally projects and a scratch
folder) is a thin op over `rebuild.rebuild_releases`, the same function as the CLI
`python -m dagster_project.cohorts.rebuild`: restore the releases' recorded inputs and code
into scratch, rebuild, publish, compare every published file's SHA-256. It writes nothing
outside the scratch folder (never the live warehouse, so no warehouse pool). The op fails when
a recorded input changed (named) or any file differs, with the per-file report as metadata.
"""

import datetime as dt
from pathlib import Path

import dagster as dg

from dagster_project.cohorts import rebuild
from dagster_project.resources import PlatformResource


class RebuildConfig(dg.Config):
    run_date: str  # the releases' run date (their reference date), ISO
    projects: list[str] = []  # projects.yaml ids; empty: every project released on that date
    scratch: str | None = None  # an empty folder; default <data_dir>/../rebuild-<run_date>-<time>


@dg.op(description="Rebuild one run date's releases from their recorded inputs and code into a "
                   "scratch folder and compare every published file's SHA-256 with the original.",
       tags={"kind": "rebuild"})
def rebuild_and_compare(context: dg.OpExecutionContext, config: RebuildConfig,
                    platform: PlatformResource) -> dg.Output[dict]:
    zones = platform.zones
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    scratch = Path(config.scratch) if config.scratch else zones.data_dir.parent / f"rebuild-{config.run_date}-{stamp}"
    context.log.info(f"rebuilding the {config.run_date} releases into {scratch}")
    try:
        results = rebuild.rebuild_releases(zones, config.run_date, config.projects or None, scratch)
    except rebuild.InputsChanged as changed:
        raise dg.Failure(f"cannot rebuild exactly: {changed}",
                         metadata={"scratch": dg.MetadataValue.path(str(scratch))}) from None
    report = "\n\n".join(r.report() for r in results)
    summary = {r.project: {"identical": len(r.identical), "different": r.different, "missing": r.missing,
                           "extra": r.extra, "code_restored": r.code_restored} for r in results}
    metadata = {"scratch": dg.MetadataValue.path(str(scratch)),
                "releases": len(results), "exact": sum(r.exact for r in results),
                "report": dg.MetadataValue.md(f"```\n{report}\n```")}
    if not all(r.exact for r in results):
        raise dg.Failure(f"{sum(not r.exact for r in results)} of {len(results)} release(s) of "
                         f"{config.run_date} not rebuilt byte for byte", metadata=metadata)
    return dg.Output(summary, metadata=metadata)


@dg.job(name="rebuild_release",
        description="Rebuild a past release byte for byte from what it recorded (cohorts/rebuild.py); "
                    "config: ops.rebuild_and_compare.config.run_date")
def rebuild_release_job():
    rebuild_and_compare()
