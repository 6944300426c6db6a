"""Concurrency pools: one writer per DuckDB database and per raw table.

Every pool has a limit of one slot (`concurrency: pools: default_limit: 1` in the
instance's dagster.yaml, see deploy/). A step claims its pool's slot before it runs and
waits while another run holds it, so:

- `duckdb_warehouse`: one `dbt build` (or any other writer of warehouse.duckdb) at a time;
  readers of the warehouse file (cohort publishing) belong in the same pool, because DuckDB
  refuses a second process while one holds the write lock;
- `identity_zone`: one linkage step at a time writes identity/*.parquet;
- `raw_<source>_<table>`: two extract dates of one table never stage and publish at once
  (different tables ingest in parallel).
"""

from __future__ import annotations

import dagster as dg
from dagster._core.events import DagsterEventType

from dagster_project.lib.processes import pid_alive

WAREHOUSE_POOL = "duckdb_warehouse"
IDENTITY_POOL = "identity_zone"


def raw_pool(source: str, table: str) -> str:
    """The pool of one raw table: its extract dates publish one at a time."""
    return f"raw_{source}_{table}"


# --------------------------------------------------------------------------- dead runs
# A run killed outright (SIGKILL, OOM killer, a reboot) never reports its end: it stays
# STARTED and keeps its pool slots, and every later run of the pool waits forever ("step
# still blocked by limit for pool ..."). The default run launcher cannot health-check its
# run workers, so Dagster's run monitoring does not notice; freeing slots after a run ends
# (`free_slots_after_run_end_seconds`, deploy/dagster.yaml) only helps once it has ended.
# Here: a run whose executing processes are all gone is marked failed and its slots freed.

ACTIVE = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING)
_EXECUTING = {DagsterEventType.RUN_START, DagsterEventType.STEP_START, DagsterEventType.STEP_WORKER_STARTED}


def executing_pids(instance: dg.DagsterInstance, run_id: str) -> set[int]:
    """Processes that started executing the run (its run worker and step workers)."""
    pids = set()
    # only the start events, filtered by the event log storage (not every event of a long run)
    for record in instance.get_records_for_run(run_id, of_type=_EXECUTING).records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.pid:
            pids.add(int(event.pid))
    return pids


def recover_dead_runs(instance: dg.DagsterInstance, alive=pid_alive) -> list[str]:
    """Fail runs whose processes are all dead and free every slot a finished run still holds.

    Returns the ids of the runs recovered. Safe to call at any time: a live run keeps its
    slots; a run not yet executing (no RUN_START) is left to run monitoring's start timeout.
    Process ids are checked on this host: for the single-host deployment (the default run
    launcher); a multi-host launcher (Kubernetes, Docker) health-checks its own workers.
    """
    recovered = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(ACTIVE))):
        pids = executing_pids(instance, run.run_id)
        if not pids or any(alive(p) for p in pids):
            continue
        instance.report_run_failed(
            run, message=f"run worker process(es) {sorted(pids)} died without reporting (killed?); "
            "marked failed and its pool slots freed by recover_dead_runs")
        recovered.append(run.run_id)
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        holding = storage.get_concurrency_run_ids()
        if holding:
            finished = instance.get_runs(filters=dg.RunsFilter(run_ids=list(holding)))
            for run in finished:
                if run.is_finished:
                    storage.free_concurrency_slots_for_run(run.run_id)
    return recovered


@dg.sensor(
    name="free_slots_of_dead_runs",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks runs whose processes died (killed, out of memory) as failed and frees "
    "their pool slots, so the next run of the pool does not wait forever.",
)
def free_slots_of_dead_runs(context: dg.SensorEvaluationContext):
    recovered = recover_dead_runs(context.instance)
    if recovered:
        context.log.warning(f"recovered {len(recovered)} dead run(s): {recovered}")
    return dg.SkipReason(f"recovered {len(recovered)} dead run(s)")


def main() -> int:
    """`python -m dagster_project.ops.concurrency`: recover dead runs of $DAGSTER_HOME (make run)."""
    with dg.DagsterInstance.get() as instance:
        recovered = recover_dead_runs(instance)
    if recovered:
        print(f"recovered {len(recovered)} dead run(s) and freed their pool slots: {recovered}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
