"""`python -m dagster_project.run`: the one-command demo behind `make run`.

Generates the default synthetic ICS when the landing zone is empty, registers every
landed extract as a partition, then runs the named jobs of the Definitions (the same jobs,
resources and pools as the UI, its sensors and the benchmarks) on the persistent instance
(DAGSTER_HOME, so the UI shows the history afterwards):

    ingest_<source>     one run per landed extract date, oldest first
    refresh_warehouse   link with the current model, pseudonymise, dbt build
    publish_cohorts     one run per Protect NoW project
    publish_projection  the population projection report

The console gets one line per stage (with its extract date, time and warning count) and a
summary in data-flow order. Dagster's event log stays in the instance (the UI shows it);
what the runs print (dbt's node lines, Splink's notes) goes to `$PHM_DATA_DIR/logs/make_run.log`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl

from dagster_project.lib.zones import Zones
from dagster_project.ops.jobs import MAKE_RUN_TAGS as TAGS
from dagster_project.ops.jobs import QUIET
from dagster_project.sources import raw_zone
from dagster_project.sources.landing import discover_extracts
from dagster_project.sources.partitions import PARTITIONS
from dagster_project.sources.registry import load_registry, sources


@dataclass
class Stage:
    name: str
    kind: str  # generate, ingest, link, publish: the rows of the summary, in data-flow order
    seconds: float = 0.0
    ok: bool = True
    warnings: int = 0
    detail: str = ""


@dataclass
class Console:
    """One line per stage; a ticking timer on a terminal while a long step runs."""

    stages: list[Stage] = field(default_factory=list)
    out: object = None  # default: sys.stdout at the time of printing
    log: Path | None = None  # where what the runs print goes (None: the console)

    @contextlib.contextmanager
    def captured(self) -> Iterator[None]:
        """Send what a run prints (dbt's node lines, library warnings) to the log file."""
        if self.log is None:
            yield
            return
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("a", encoding="utf-8") as fh, contextlib.redirect_stdout(fh), \
                contextlib.redirect_stderr(fh):
            yield

    @contextlib.contextmanager
    def stage(self, name: str, kind: str | None = None) -> Iterator[Stage]:
        stage = Stage(name, kind or name.split()[0])
        started = time.monotonic()
        stop = threading.Event()
        ticker = None
        terminal = sys.stderr  # before a run redirects it
        if getattr(terminal, "isatty", lambda: False)():
            def tick():
                while not stop.wait(1):
                    terminal.write(f"\r  … {name}  {time.monotonic() - started:4.0f} s")
                    terminal.flush()
            ticker = threading.Thread(target=tick, daemon=True)
            ticker.start()
        try:
            yield stage
        except Exception as exc:  # a stage that raised is reported, and the run goes on to the summary
            stage.ok, stage.detail = False, f"{type(exc).__name__}: {exc}".splitlines()[0]
        finally:
            stop.set()
            if ticker is not None:
                ticker.join()
                terminal.write("\r\033[K")
            stage.seconds = time.monotonic() - started
            self.stages.append(stage)
            mark = "ok" if stage.ok else "FAILED"
            warn = f"  {stage.warnings} warning(s)" if stage.warnings else ""
            detail = f"  {stage.detail}" if stage.detail else ""
            print(f"  {mark:<6} {name:<44} {stage.seconds:6.1f} s{warn}{detail}",
                  file=self.out or sys.stdout, flush=True)


def warnings_of(result: dg.ExecuteInProcessResult) -> int:
    """Failed non-blocking checks (GX warnings, dbt tests of severity warn) in a run."""
    count = 0
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN:
                count += 1
    return count


def landing_is_empty(zones: Zones) -> bool:
    return not any(discover_extracts(zones.landing, s).dates for s in sources())


def generate_default(zones: Zones, persons: int, seed: int) -> None:
    from dagster_project.synthetic import GeneratorConfig, generate

    generate(GeneratorConfig(persons=persons, seed=seed, out=zones.data_dir))


def run_job(defs: dg.Definitions, name: str, instance: dg.DagsterInstance, stage: Stage,
            console: Console, **kwargs) -> dg.ExecuteInProcessResult:
    """Execute one named job of the Definitions (its resources, pools, checks)."""
    with console.captured():
        result = defs.resolve_job_def(name).execute_in_process(
            instance=instance, raise_on_error=False, run_config=kwargs.pop("run_config", QUIET),
            tags={**TAGS, **kwargs.pop("tags", {})}, **kwargs)
    stage.warnings += warnings_of(result)
    if not result.success:
        stage.ok = False
        failure = next((e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE), None)
        error = failure.step_failure_data.error if failure else None
        stage.detail = f"run {result.run_id[:8]}: " + (
            (error.message.strip().splitlines() or [""])[0] if error else "see the Dagster UI")
    return result


def register_partitions(zones: Zones, instance: dg.DagsterInstance, console: Console) -> dict[str, list[str]]:
    """Every landed extract date as a partition of its source (what the landing sensor does)."""
    landed = {}
    for source in sources():
        found = discover_extracts(zones.landing, source)
        for problem in found.invalid:
            print(f"  skipped {problem}: folder name is not an ISO date (YYYY-MM-DD)",
                  file=console.out or sys.stdout)
        known = set(instance.get_dynamic_partitions(PARTITIONS[source].name))
        missing = [d for d in found.dates if d not in known]
        if missing:
            instance.add_dynamic_partitions(PARTITIONS[source].name, missing)
        landed[source] = found.dates
    return landed


def already_published(zones: Zones, source: str) -> set[str]:
    """Extract dates of a source published for every one of its tables."""
    specs = [s for s in load_registry().values() if s.source == source]
    dates = [set(raw_zone.published_dates(zones.raw, s)) for s in specs]
    return set.intersection(*dates) if dates else set()


def ingest_all(defs, zones: Zones, instance: dg.DagsterInstance, console: Console,
               only_new: bool = False, before: str | None = None, since: str | None = None) -> list[str]:
    """`ingest_<source>` for every landed extract (with `only_new`, those not yet published;
    with `before` / `since`, those dated before it / on or after it), oldest first. Returns
    the failures."""
    failures = []
    for source, dates in register_partitions(zones, instance, console).items():
        done = already_published(zones, source) if only_new else set()
        for extract_date in [d for d in dates if d not in done and (before is None or d < before)
                             and (since is None or d >= since)]:
            with console.stage(f"ingest {source} {extract_date}") as stage:
                run_job(defs, f"ingest_{source}", instance, stage, console, partition_key=extract_date)
            if not stage.ok:
                failures.append(f"{source} {extract_date}")
    return failures


def record_shipped_model(zones: Zones, instance: dg.DagsterInstance) -> None:
    """Until a model is trained here, the linkage uses the one shipped in the repository:
    record that as identity/linkage_model's materialisation, so the UI shows which model."""
    from dagster_project.linkage import pipeline
    from dagster_project.linkage.assets import MODEL

    if instance.get_latest_materialization_event(MODEL) is not None:
        return
    path = pipeline.model_path(zones)
    instance.report_runless_asset_event(dg.AssetMaterialization(
        MODEL, description="the model shipped in the repository (train_linkage_model retrains it)",
        metadata={"model": dg.MetadataValue.path(str(path)), "trained_here": False}))


def refresh_warehouse(defs, zones: Zones, instance: dg.DagsterInstance, console: Console) -> bool:
    record_shipped_model(zones, instance)
    with console.stage("link, pseudonymise and build the warehouse", "link+build") as stage:
        run_job(defs, "refresh_warehouse", instance, stage, console)
    return stage.ok


def publish_cohorts(defs, zones: Zones, instance: dg.DagsterInstance, console: Console) -> bool:
    from dagster_project.cohorts.assets import PROJECTS

    ok = True
    for pid in PROJECTS:
        with console.stage(f"publish {pid}") as stage:
            run_job(defs, "publish_cohorts", instance, stage, console, partition_key=pid)
        ok = ok and stage.ok
    return ok


def publish_projection(defs, zones: Zones, instance: dg.DagsterInstance, console: Console) -> bool:
    if "publish_projection" not in {job.name for job in defs.jobs or []}:
        return True
    with console.stage("publish the population projection report", "projection") as stage:
        run_job(defs, "publish_projection", instance, stage, console)
    return stage.ok


def raw_summary(zones: Zones) -> list[str]:
    lines = ["Raw zone (what downstream sees: newest snapshot / all increments):"]
    for spec in load_registry().values():
        frame = raw_zone.scan_published(zones.raw, spec)
        dates = raw_zone.published_dates(zones.raw, spec)
        rows = frame.select(pl.len()).collect().item() if frame is not None else 0
        lines.append(f"  {spec.source + '.' + spec.table:<40} {rows:>12,}  extracts: {len(dates)}")
    return lines


def linkage_summary(zones: Zones) -> list[str]:
    from dagster_project.linkage import pipeline

    path = zones.identity / pipeline.PERSON_INDEX
    if not path.exists():
        return []
    index = pl.read_parquet(path)
    lines = [f"People linked: {index['person_id'].n_unique():,} people from {index.height:,} "
             f"person-level records (Splink; identity zone {zones.identity})"]
    for name, m in (pipeline.evaluate(zones) or {}).items():
        lines.append(f"  {name:<16} precision {m['precision']:.4f}  recall {m['recall']:.4f}  "
                     f"people {m['people_predicted']:,} (truth {m['people_true']:,})")
    opt = zones.identity / pipeline.OPT_OUTS
    if opt.exists():
        lines.append(f"  national data opt-outs applied to {pl.read_parquet(opt).height:,} people")
    return lines


def stage_summary(console: Console) -> list[str]:
    """Stage timings and warnings, grouped in data-flow order."""
    order = ["generate", "ingest", "link+build", "publish", "projection"]
    groups: dict[str, list[Stage]] = {}
    for stage in console.stages:
        groups.setdefault(stage.kind, []).append(stage)
    lines = ["Stages (data-flow order):",
             f"  {'stage':<10} {'runs':>5} {'failed':>7} {'warnings':>9} {'seconds':>9}"]
    for name in sorted(groups, key=lambda n: order.index(n) if n in order else len(order)):
        s = groups[name]
        lines.append(f"  {name:<10} {len(s):>5} {sum(not x.ok for x in s):>7} "
                     f"{sum(x.warnings for x in s):>9} {sum(x.seconds for x in s):>9.1f}")
    return lines


def summary(zones: Zones, console: Console, built: bool, published: bool, projected: bool = False) -> str:
    lines = ["", *raw_summary(zones), "", *linkage_summary(zones)]
    if built:
        from dagster_project.warehouse.build import summary as warehouse_summary

        lines.append(warehouse_summary(zones))
    if published:
        from dagster_project.cohorts.build import releases_summary

        lines.append(releases_summary(zones))
    if projected:
        from dagster_project.projection.build import projection_summary

        lines.append(projection_summary(zones))
    lines += ["", *stage_summary(console), "",
              f"data directory: {zones.data_dir}  (quarantine: {zones.quarantine})",
              f"what the runs printed (dbt, Splink): {console.log}",
              "Open the Dagster UI with `make ui` (http://127.0.0.1:3000) to see the runs, checks "
              "and reports."]
    return "\n".join(lines)


def quiet_libraries() -> None:
    """Library chatter stays out of the console: Splink/GX INFO logs, the PySpark import
    warning (the DuckDB backend does not use Spark) and Dagster's notes on beta APIs."""
    for name in ("py4j", "great_expectations", "dagster", "dbt", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module=r"pyspark(\..*)?")
    for category in (dg.BetaWarning, dg.PreviewWarning, dg.SupersessionWarning):
        warnings.filterwarnings("ignore", category=category)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=int(os.environ.get("PHM_PERSONS", 20_000)))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    quiet_libraries()
    zones = Zones.from_env()
    os.environ.setdefault("DAGSTER_HOME", str(zones.data_dir / "dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    console = Console(log=zones.logs / "make_run.log")
    console.log.unlink(missing_ok=True)
    started = time.monotonic()
    if landing_is_empty(zones):
        with console.stage(f"generate a synthetic ICS of {args.persons:,} people"), console.captured():
            generate_default(zones, args.persons, args.seed)
    from dagster_project.definitions import defs

    built = published = projected = False
    from dagster_project.outreach.loop import close_previous_loop, held_back

    with dg.DagsterInstance.get() as instance:
        # the newest month waits in landing until last month's outreach has happened in the
        # synthetic world (dagster_project/outreach/loop.py)
        month = held_back(zones)
        failures = ingest_all(defs, zones, instance, console, before=month)
        if not failures:
            built = refresh_warehouse(defs, zones, instance, console)
            if not built:
                failures.append("refresh_warehouse")
        if built:  # the previous month's releases, worked by a simulated outreach team
            with console.stage("outcomes loop: last month published, worked, outcomes in", "publish") as stage, \
                    console.captured():
                stage.ok = close_previous_loop(zones, instance)
            if not stage.ok:
                failures.append("outcomes loop")
                built = False
            elif month:  # this month's extracts, then last month's outcomes (the delivery of the
                # day before: after this month's outreach extract, whose row volume the gate
                # compares with the month before), then the build as of now
                failures += ingest_all(defs, zones, instance, console, only_new=True, since=month)
                failures += ingest_all(defs, zones, instance, console, only_new=True)
                built = not failures and refresh_warehouse(defs, zones, instance, console)
                if not built and not failures:
                    failures.append("refresh_warehouse")
        if built:
            published = publish_cohorts(defs, zones, instance, console)
            if not published:
                failures.append("publish_cohorts")
        if published:  # one conversation per person, channel files, worklists, DQ returns
            from dagster_project.outreach.build import publish_plan

            with console.stage("outreach plan: channel files, worklists, DQ returns", "publish") as stage, \
                    console.captured():
                stage.ok = publish_plan(zones, instance)
            if not stage.ok:
                failures.append("outreach plan")
        if built:
            projected = publish_projection(defs, zones, instance, console)  # needs the warehouse only
            if not projected:
                failures.append("publish_projection")
    print(summary(zones, console, built, published, projected))
    print(f"\nfinished in {time.monotonic() - started:.0f} s")
    if failures:
        print(f"FAILED (see the Dagster UI and {zones.quarantine}): {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
