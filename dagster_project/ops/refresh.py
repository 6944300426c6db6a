"""The refresh chain: ingest -> link -> warehouse -> publish, and its schedules.

Ingestion is event-driven: the landing sensor ingests each extract as it lands, and the
`monthly_ingest_<source>` schedules catch the newest extract of each source on the 3rd.
Everything downstream follows from what has been published, stage by stage:

    raw/* (sources)  --downstream_refresh-->  refresh_warehouse (link + dbt build)
    warehouse/*      --downstream_refresh-->  publish_cohorts (one run per project)

`downstream_refresh` (a sensor) launches a stage when its upstream holds a newer
materialisation than the oldest asset of the stage, once no run that writes the chain is
queued or in flight (so a month of extracts landing together links once). Each stage runs
once per upstream state (run key), so a failed stage waits for new data or a hand re-run
rather than retrying every minute.

Schedules: `monthly_full_refresh` (07:00 on the 3rd) relinks and rebuilds the warehouse
whether or not new extracts came (code lists, reference data and the model change too),
and `downstream_refresh` then re-publishes; `weekly_republish_cohorts` (Monday 07:00)
re-publishes every Protect NoW project from the current warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dagster as dg

from dagster_project.linkage.assets import MODEL
from dagster_project.ops.policies import COHORTS_GROUP, WAREHOUSE_GROUP

TIMEZONE = "Europe/London"
IDENTITY_GROUP = "identity"
REFRESH_WAREHOUSE_JOB = "refresh_warehouse"
PUBLISH_COHORTS_JOB = "publish_cohorts"
WAITING = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.QUEUED,
           dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


@dataclass(frozen=True)
class Stage:
    """One link of the chain: when `upstream` is newer than `downstream`, run `job`."""

    name: str
    job: str
    upstream: tuple[dg.AssetKey, ...]
    downstream: tuple[dg.AssetKey, ...]
    partitions_def: dg.PartitionsDefinition | None = None


def keys_by_group(assets: Iterable[dg.AssetsDefinition]) -> dict[str, list[dg.AssetKey]]:
    out: dict[str, list[dg.AssetKey]] = {}
    for a in assets:
        for key, group in a.group_names_by_key.items():
            out.setdefault(group, []).append(key)
    return out


def cohorts_partitions(assets: Iterable[dg.AssetsDefinition]) -> dg.PartitionsDefinition | None:
    """The partitioning of the cohorts group (a static partition per project), if any."""
    defs = {a.partitions_def for a in assets
            if COHORTS_GROUP in set(a.group_names_by_key.values()) and a.partitions_def}
    if len(defs) > 1:
        raise ValueError(f"the {COHORTS_GROUP} group mixes partitionings {defs}: "
                         f"{PUBLISH_COHORTS_JOB} needs one (a static partition per project)")
    return next(iter(defs), None)


def last_storage_ids(instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey]) -> dict[dg.AssetKey, int]:
    """Asset key -> storage id of its newest materialisation (any partition)."""
    out = {}
    for record in instance.get_asset_records(list(keys)):
        last = record.asset_entry.last_materialization_record
        if last is not None:
            out[record.asset_entry.asset_key] = last.storage_id
    return out


def stage_requests(instance: dg.DagsterInstance, stage: Stage) -> list[dg.RunRequest]:
    """The runs a stage needs now: none unless its upstream is newer than its oldest asset."""
    upstream = last_storage_ids(instance, stage.upstream)
    if not upstream:
        return []
    newest_upstream = max(upstream.values())
    downstream = last_storage_ids(instance, stage.downstream)
    oldest_downstream = min((downstream.get(k, 0) for k in stage.downstream), default=0)
    if oldest_downstream > newest_upstream:
        return []
    tags = {"trigger": "downstream_refresh", "phm/stage": stage.name}
    if stage.partitions_def is None:
        return [dg.RunRequest(run_key=f"{stage.name}:{newest_upstream}", job_name=stage.job, tags=tags)]
    return [
        dg.RunRequest(run_key=f"{stage.name}:{newest_upstream}:{p}", job_name=stage.job,
                      partition_key=p, tags=tags)
        for p in stage.partitions_def.get_partition_keys(dynamic_partitions_store=instance)
    ]


def already_launched(instance: dg.DagsterInstance, run_key: str | None) -> bool:
    """True when a run with this sensor run key exists (the stage ran for this upstream state)."""
    return bool(run_key) and bool(instance.get_run_ids(
        filters=dg.RunsFilter(tags={"dagster/run_key": run_key}), limit=1))


def chain_busy(instance: dg.DagsterInstance, job_names: Sequence[str]) -> list[str]:
    """Runs of the chain's jobs (or ad hoc materialisations) queued or in flight."""
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=WAITING), limit=50)
    return [f"{r.job_name} ({r.run_id[:8]})" for r in runs if r.job_name in set(job_names)]


def build_refresh(assets: Sequence[dg.AssetsDefinition], ingest_jobs: Sequence[str]):
    """Jobs, the downstream sensor and the schedules for these assets.

    Returns (jobs, sensors, schedules). The cohorts stage and its schedule exist only when
    the graph has a `cohorts` group.
    """
    groups = keys_by_group(assets)
    raw = tuple(groups.get("sources", []))
    # the identity zone but the model (trained on demand), then the warehouse
    refresh_selection = (dg.AssetSelection.groups(IDENTITY_GROUP) - dg.AssetSelection.assets(MODEL)
                         | dg.AssetSelection.groups(WAREHOUSE_GROUP))
    refresh_keys = (*(k for k in groups.get(IDENTITY_GROUP, []) if k != MODEL),
                    *groups.get(WAREHOUSE_GROUP, []))
    refresh_job = dg.define_asset_job(
        REFRESH_WAREHOUSE_JOB, selection=refresh_selection,
        description="Link with the current model (score, cluster, pseudonymise, opt-outs), then "
                    "dbt build the warehouse as of the newest published extract.")
    jobs = [refresh_job]
    stages = [Stage("link_and_build", REFRESH_WAREHOUSE_JOB, raw, refresh_keys)]
    schedules = [dg.ScheduleDefinition(
        name="monthly_full_refresh", job=refresh_job, cron_schedule="0 7 3 * *",
        execution_timezone=TIMEZONE, tags={"trigger": "monthly_full_refresh"},
        description="Monthly full refresh (07:00 on the 3rd, after the 06:00 monthly_ingest_* "
                    "schedules): relink and rebuild the warehouse; downstream_refresh then "
                    "re-publishes every cohort.")]
    cohorts = tuple(groups.get(COHORTS_GROUP, []))
    if cohorts:
        partitions = cohorts_partitions(assets)
        publish_job = dg.define_asset_job(
            PUBLISH_COHORTS_JOB, selection=dg.AssetSelection.groups(COHORTS_GROUP),
            partitions_def=partitions,
            description="Publish the Protect NoW cohort releases from the current warehouse.")
        jobs.append(publish_job)
        stages.append(Stage("publish", PUBLISH_COHORTS_JOB, tuple(groups.get(WAREHOUSE_GROUP, [])),
                            cohorts, partitions))
        schedules.append(_weekly_republish(publish_job, partitions))
    watched = [*ingest_jobs, *(j.name for j in jobs), "__ASSET_JOB"]

    @dg.sensor(
        name="downstream_refresh", jobs=jobs, minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After new extracts are published, link and rebuild the warehouse; after the "
                    "warehouse is rebuilt, re-publish the cohorts. Waits while the chain is busy.")
    def downstream_refresh(context: dg.SensorEvaluationContext):
        busy = chain_busy(context.instance, watched)
        if busy:
            return dg.SkipReason(f"waiting for {len(busy)} run(s) in flight: {', '.join(busy[:5])}")
        for stage in stages:
            requests = [r for r in stage_requests(context.instance, stage)
                        if not already_launched(context.instance, r.run_key)]
            if requests:  # one stage at a time: the next follows once this one has run
                return requests
        return dg.SkipReason("everything downstream is newer than its inputs")

    return jobs, [downstream_refresh], schedules


def _weekly_republish(job, partitions: dg.PartitionsDefinition | None) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="weekly_republish_cohorts", job=job, cron_schedule="0 7 * * 1",
        execution_timezone=TIMEZONE,
        description="Every Monday 07:00: re-publish every Protect NoW project's release from the "
                    "current warehouse (one run per project), so that call lists stay current.")
    def _schedule(context: dg.ScheduleEvaluationContext):
        tags = {"trigger": "weekly_republish_cohorts"}
        week = f"{context.scheduled_execution_time:%G-W%V}"
        if partitions is None:
            return dg.RunRequest(run_key=f"republish:{week}", tags=tags)
        return [dg.RunRequest(run_key=f"republish:{week}:{p}", partition_key=p, tags=tags)
                for p in partitions.get_partition_keys(dynamic_partitions_store=context.instance)]

    return _schedule
