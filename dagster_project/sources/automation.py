"""Ingestion jobs, the landing sensor and the monthly schedule."""


import dagster as dg

from dagster_project.lib.zones import Zones
from dagster_project.sources.assets import raw_asset_keys
from dagster_project.sources.landing import discover_extracts
from dagster_project.sources.partitions import PARTITIONS
from dagster_project.sources.registry import sources

INGEST_JOBS = {
    source: dg.define_asset_job(
        name=f"ingest_{source}",
        selection=dg.AssetSelection.assets(*raw_asset_keys(source)),
        partitions_def=PARTITIONS[source],
        description=f"Gate and load one extract of every {source} table into the raw zone.",
    )
    for source in sources()
}


def new_extract_requests(
    zones: Zones, known: dict[str, set[str]]
) -> tuple[list[dg.AddDynamicPartitionsRequest], list[dg.RunRequest], list[str]]:
    """Partitions to add and runs to launch for extract folders not seen before.

    Returns (partition requests, run requests, problems); a folder whose name is not a
    date is reported, not loaded.
    """
    partition_requests, run_requests, problems = [], [], []
    for source in sources():
        found = discover_extracts(zones.landing, source)
        problems += [f"{p}: folder name is not an ISO date (YYYY-MM-DD); not loaded" for p in found.invalid]
        new = [d for d in found.dates if d not in known.get(source, set())]
        if not new:
            continue
        partition_requests.append(PARTITIONS[source].build_add_request(new))
        for extract_date in new:
            run_requests.append(
                dg.RunRequest(
                    run_key=f"{source}:{extract_date}",
                    job_name=INGEST_JOBS[source].name,
                    partition_key=extract_date,
                    tags={"source": source, "trigger": "landing_sensor"},
                )
            )
    return partition_requests, run_requests, problems


@dg.sensor(
    jobs=list(INGEST_JOBS.values()),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Notices a new extract folder under landing/<source>/<date>/ and ingests it.",
)
def landing_sensor(context: dg.SensorEvaluationContext):
    zones = Zones.from_env()
    known = {s: set(context.instance.get_dynamic_partitions(PARTITIONS[s].name)) for s in sources()}
    partition_requests, run_requests, problems = new_extract_requests(zones, known)
    for problem in problems:
        context.log.warning(problem)
    if not run_requests:
        return dg.SkipReason("no new extract folders" + (f"; {len(problems)} problem(s)" if problems else ""))
    return dg.SensorResult(run_requests=run_requests, dynamic_partitions_requests=partition_requests)


def _monthly_schedule(source: str) -> dg.ScheduleDefinition:
    job = INGEST_JOBS[source]

    @dg.schedule(
        name=f"monthly_ingest_{source}",
        job=job,
        cron_schedule="0 6 3 * *",  # 06:00 on the 3rd: extracts are cut on the 1st
        execution_timezone="Europe/London",
        description=f"Monthly refresh: gate and load the newest {source} extract.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        dates = discover_extracts(Zones.from_env().landing, source).dates
        if not dates:
            return dg.SkipReason(f"no {source} extract has landed")
        partitions = PARTITIONS[source]
        if dates[-1] not in set(context.instance.get_dynamic_partitions(partitions.name)):
            context.instance.add_dynamic_partitions(partitions.name, [dates[-1]])
        return dg.RunRequest(
            run_key=f"monthly:{source}:{dates[-1]}:{context.scheduled_execution_time:%Y-%m}",
            partition_key=dates[-1],
            tags={"source": source, "trigger": "monthly_schedule"},
        )

    return _schedule


MONTHLY_SCHEDULES = [_monthly_schedule(source) for source in sources()]
