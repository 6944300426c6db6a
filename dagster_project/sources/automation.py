"""Ingestion jobs, the landing sensor and the monthly schedule."""


import datetime as dt
import hashlib
import json

import dagster as dg

from dagster_project.lib.alert_log import alerts_file, append_alert
from dagster_project.lib.zones import Zones
from dagster_project.resources import PlatformResource
from dagster_project.sources import raw_zone
from dagster_project.sources.assets import raw_asset_keys
from dagster_project.sources.landing import SUFFIXES, discover_extracts, unknown_table_files
from dagster_project.sources.partitions import PARTITIONS
from dagster_project.sources.registry import load_registry, sources, tables_of

INGEST_JOBS = {
    source: dg.define_asset_job(
        name=f"ingest_{source}",
        selection=dg.AssetSelection.assets(*raw_asset_keys(source)),
        partitions_def=PARTITIONS[source],
        description=f"Gate and load one extract of every {source} table into the raw zone.",
    )
    for source in sources()
}


def changed_tables(zones: Zones, source: str, extract_date: str) -> list[str]:
    """Tables of a known extract whose delivered file differs from its published version.

    Compared by name, size and modification time against the current version's audit (cheap
    enough for every minute); the ingest then compares SHA-256 digests, so a file merely
    touched is not loaded again. A table with no published version counts as changed: the
    run key carries the folder's fingerprint, so the same failed bytes are not re-run.
    """
    extract_dir = zones.landing / source / extract_date
    changed = []
    for spec in (s for s in load_registry().values() if s.source == source):
        path = next((extract_dir / f"{spec.table}{sfx}" for sfx in SUFFIXES
                     if (extract_dir / f"{spec.table}{sfx}").exists()), None)
        if path is None or path.is_symlink():
            continue
        audit = raw_zone.read_audit(zones.raw, spec, extract_date) or {}
        if audit.get("landing") != raw_zone.landing_fingerprint(path):
            changed.append(spec.table)
    return changed


def folder_fingerprint(zones: Zones, source: str, extract_date: str) -> str:
    """A short digest of the names, sizes and times of an extract folder's files."""
    folder = zones.landing / source / extract_date
    parts = sorted(f"{p.name}:{p.lstat().st_size}:{p.lstat().st_mtime_ns}"
                   for p in folder.iterdir() if not p.name.startswith("."))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def landing_problems(zones: Zones, discovered: dict | None = None) -> list[str]:
    """Refused folders (not dates, future-dated, links) and files that are no table;
    `discovered` (source -> discover_extracts) saves walking landing again."""
    problems = []
    for source in sources():
        found = discovered[source] if discovered else discover_extracts(zones.landing, source)
        problems += found.problems()
        for extract_date in found.dates:
            unknown = unknown_table_files(zones.landing / source / extract_date, tables_of(source))
            if unknown:
                problems.append(f"{zones.landing / source / extract_date}: {len(unknown)} file(s) are "
                                f"no {source} table of the landing contract, not loaded: {unknown}")
    return problems


def new_extract_requests(
    zones: Zones, known: dict[str, set[str]]
) -> tuple[list[dg.AddDynamicPartitionsRequest], list[dg.RunRequest], list[str]]:
    """Partitions to add and runs to launch for new extract folders and re-delivered files.

    Returns (partition requests, run requests, problems). A folder that is not a date, is
    dated in the future or is a link is reported, never loaded. A known extract whose files
    changed (a re-delivery) is run again with a run key naming the new bytes, so each
    delivery runs once and becomes a new version of the partition.
    """
    partition_requests, run_requests = [], []
    discovered = {source: discover_extracts(zones.landing, source) for source in sources()}  # once a tick
    problems = landing_problems(zones, discovered)
    for source, found in discovered.items():
        new = [d for d in found.dates if d not in known.get(source, set())]
        if new:
            partition_requests.append(PARTITIONS[source].build_add_request(new))
        for extract_date in found.dates:
            if extract_date in new:
                key = f"{source}:{extract_date}:{folder_fingerprint(zones, source, extract_date)}"
                trigger = "landing_sensor"
            elif changed_tables(zones, source, extract_date):
                key = f"{source}:{extract_date}:{folder_fingerprint(zones, source, extract_date)}"
                trigger = "landing_sensor:redelivery"
            else:
                continue
            run_requests.append(
                dg.RunRequest(
                    run_key=key,
                    job_name=INGEST_JOBS[source].name,
                    partition_key=extract_date,
                    tags={"source": source, "trigger": trigger},
                )
            )
    return partition_requests, run_requests, problems


def alert_new_problems(zones: Zones, problems: list[str], cursor: str | None) -> tuple[list[str], str]:
    """Write an alert line for each landing problem not alerted before; the new cursor."""
    seen = set(json.loads(cursor)) if cursor else set()
    digests = {hashlib.sha256(p.encode()).hexdigest()[:16]: p for p in problems}
    fresh = [p for d, p in digests.items() if d not in seen]
    if fresh:
        append_alert({
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "job": "landing_sensor", "status": "LANDING_PROBLEM", "trigger": "sensor:landing_sensor",
            "problems": fresh, "message": f"{len(fresh)} landing problem(s): refused or unknown files",
        }, alerts_file(zones))
    return fresh, json.dumps(sorted(seen | set(digests)))


@dg.sensor(
    jobs=list(INGEST_JOBS.values()),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Notices a new extract folder under landing/<source>/<date>/ and ingests it.",
)
def landing_sensor(context: dg.SensorEvaluationContext, platform: PlatformResource):
    zones = platform.zones
    known = {s: set(context.instance.get_dynamic_partitions(PARTITIONS[s].name)) for s in sources()}
    partition_requests, run_requests, problems = new_extract_requests(zones, known)
    for problem in problems:
        context.log.warning(problem)
    _, cursor = alert_new_problems(zones, problems, context.cursor)
    if not run_requests:
        return dg.SensorResult(
            skip_reason=dg.SkipReason("no new extract folders" + (f"; {len(problems)} problem(s)" if problems else "")),
            cursor=cursor)
    return dg.SensorResult(run_requests=run_requests, dynamic_partitions_requests=partition_requests,
                           cursor=cursor)


def _monthly_schedule(source: str) -> dg.ScheduleDefinition:
    job = INGEST_JOBS[source]

    @dg.schedule(
        name=f"monthly_ingest_{source}",
        job=job,
        cron_schedule="0 6 3 * *",  # 06:00 on the 3rd: extracts are cut on the 1st
        execution_timezone="Europe/London",
        description=f"Monthly refresh: gate and load the newest {source} extract.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, platform: PlatformResource):
        dates = discover_extracts(platform.zones.landing, source).dates
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
