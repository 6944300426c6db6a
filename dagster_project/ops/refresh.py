"""The refresh chain, declared: ingest -> link -> warehouse -> publish.

Ingestion is event-driven: the landing sensor ingests each extract as it lands, and the
`monthly_ingest_<source>` schedules catch the newest extract of each source on the 3rd.
Everything downstream follows from Dagster declarative automation: every identity,
warehouse and cohort asset carries an automation condition (defined and set once, by
group, in `policies.apply_operational_policies`), and the `downstream_refresh` automation
sensor evaluates them every minute, in the code location (`ChainIdle` is Python).

- identity (but the model) and warehouse: run when an upstream asset updated (or, for the
  monthly full refresh, when the 07:00-on-the-3rd cron tick passed), once no run of the
  chain is queued or in flight (`ChainIdle`). Everything requested in one tick runs as one
  run, so new extracts link and build once;
- cohorts (one partition per Protect NoW project): run when the warehouse actually updated
  (not merely requested: a release never races the build it reads) or on the Monday 07:00
  tick (weekly re-publish), once the chain is idle.

"Since last handled": each condition fires once per upstream state; a failed run waits for
new data, a cron tick or a hand re-run rather than retrying every minute. Pools still hold
(one writer per database). The same work is reachable as named jobs: `refresh_warehouse`
(link with the current model, then `dbt build`) and `publish_cohorts` (one run per
project), which `make run`, the UI and the benchmarks execute.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import dagster as dg

from dagster_project.ops.policies import (
    COHORTS_GROUP,
    IDENTITY_GROUP,
    MODEL_KEY,
    OUTREACH_GROUP,
    PROJECTION_GROUP,
    SOURCES_GROUP,
    WAREHOUSE_GROUP,
    area,
)

REFRESH_WAREHOUSE_JOB = "refresh_warehouse"
PUBLISH_COHORTS_JOB = "publish_cohorts"
PUBLISH_PROJECTION_JOB = "publish_projection"
AUTOMATION_SENSOR = "downstream_refresh"


STAGE_TAG = "phm/stage"
# the chain job that does the same work as an automation run touching assets of this area
STAGE_BY_AREA = {IDENTITY_GROUP: REFRESH_WAREHOUSE_JOB, WAREHOUSE_GROUP: REFRESH_WAREHOUSE_JOB,
                 COHORTS_GROUP: PUBLISH_COHORTS_JOB, PROJECTION_GROUP: PUBLISH_PROJECTION_JOB,
                 OUTREACH_GROUP: "publish_outreach_plan"}


def stage_of(run: dg.DagsterRun) -> str | None:
    """The chain stage of a run launched by declarative automation, named as the named job
    that does the same work (automation runs execute Dagster's implicit asset job)."""
    launched_by_automation = AUTOMATION_SENSOR in (run.tags.get("dagster/sensor_name"), run.tags.get("trigger"))
    if not launched_by_automation or not run.asset_selection:
        return None
    stages = {STAGE_BY_AREA.get(key.path[0]) for key in run.asset_selection} - {None}
    return "+".join(sorted(stages)) or None


def label_stage(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str | None:
    """Tag an automation run with its stage (`phm/stage`), once; the stage or None."""
    stage = stage_of(run)
    if stage and run.tags.get(STAGE_TAG) != stage:
        instance.add_run_tags(run.run_id, {STAGE_TAG: stage})
    return stage


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.STARTED,
    name="label_automation_runs",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Tags each run the {AUTOMATION_SENSOR} automation sensor launches with its chain "
                f"stage ({STAGE_TAG}: refresh_warehouse, publish_cohorts, publish_projection or "
                "publish_outreach_plan), "
                "so the Runs page can be filtered by stage: declarative automation launches "
                "Dagster's implicit asset job, not the named jobs.",
)
def label_automation_runs(context: dg.RunStatusSensorContext):
    stage = label_stage(context.instance, context.dagster_run)
    if stage:
        context.log.info(f"run {context.dagster_run.run_id[:8]}: {STAGE_TAG}={stage}")


def cohorts_partitions(assets: Iterable[dg.AssetsDefinition]) -> dg.PartitionsDefinition | None:
    """The partitioning of the cohorts group (a static partition per project), if any."""
    defs = {a.partitions_def for a in assets
            if COHORTS_GROUP in set(a.group_names_by_key.values()) and a.partitions_def}
    if len(defs) > 1:
        raise ValueError(f"the {COHORTS_GROUP} group mixes partitionings {defs}: "
                         f"{PUBLISH_COHORTS_JOB} needs one (a static partition per project)")
    return next(iter(defs), None)


def build_refresh(assets: Sequence[dg.AssetsDefinition]):
    """The named jobs of the chain and the automation sensor. Returns (jobs, sensors)."""
    groups = {g for a in assets for g in a.group_names_by_key.values()}
    # every dbt layer group (warehouse_staging, ...); not other assets under warehouse/
    warehouse = dg.AssetSelection.groups(*sorted(g for g in groups if area(g) == WAREHOUSE_GROUP))
    refresh_selection = (dg.AssetSelection.groups(IDENTITY_GROUP) - dg.AssetSelection.assets(MODEL_KEY)
                         | warehouse)
    jobs = [dg.define_asset_job(
        REFRESH_WAREHOUSE_JOB, selection=refresh_selection,
        description="Link with the current model (score, cluster, pseudonymise, opt-outs), then "
                    "dbt build the warehouse as of the newest published extract.")]
    automated = dg.AssetSelection.groups(IDENTITY_GROUP) | warehouse
    if COHORTS_GROUP in groups:
        jobs.append(dg.define_asset_job(
            PUBLISH_COHORTS_JOB, selection=dg.AssetSelection.groups(COHORTS_GROUP),
            partitions_def=cohorts_partitions(assets),
            description="Publish the Protect NoW cohort releases from the current warehouse "
                        "(one run per project partition)."))
        automated = automated | dg.AssetSelection.groups(COHORTS_GROUP)
    if PROJECTION_GROUP in groups:
        jobs.append(dg.define_asset_job(
            PUBLISH_PROJECTION_JOB, selection=dg.AssetSelection.groups(PROJECTION_GROUP),
            description="Write the population projection report from the current warehouse."))
        automated = automated | dg.AssetSelection.groups(PROJECTION_GROUP)
    if OUTREACH_GROUP in groups:  # the plan follows a new cohort release (its job: publish_outreach_plan)
        automated = automated | dg.AssetSelection.groups(OUTREACH_GROUP)
    sensor = dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR, target=automated - dg.AssetSelection.groups(SOURCES_GROUP),
        default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=60,
        use_user_code_server=True,  # ChainIdle is Python: evaluated in the code location
        emit_backfills=False,  # one run per project partition, as publish_cohorts would
        run_tags={"trigger": AUTOMATION_SENSOR},
        description="Declarative automation of the chain: after new extracts are published, "
                    "link and rebuild the warehouse; after the warehouse is rebuilt, re-publish "
                    "the cohorts and the projection report, then the outreach plan; monthly full refresh (07:00 on the 3rd) and weekly re-publish "
                    "(Monday 07:00) as cron conditions. Waits while the chain is busy.")
    return jobs, [sensor, label_automation_runs]
