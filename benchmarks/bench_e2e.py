"""End-to-end benchmark of what production runs: a full refresh, then an incremental one.

    python benchmarks/bench_e2e.py --persons 1100000
    python benchmarks/bench_e2e.py --persons 50000 200000 1100000   # scaling curve
    python benchmarks/bench_e2e.py --persons 3200000 --generated DIR  # a pre-generated ICS

For each size: generate a synthetic ICS with one extract more than the refresh uses
(4 monthly extracts); deliver the first 3 to landing and run a full refresh; then deliver
the 4th and run an incremental refresh. Every stage runs the named jobs of the
Definitions through the same functions as `make run` (dagster_project/run.py), on a
persistent DagsterInstance (DAGSTER_HOME under the benchmark's data directory):

    ingest    ingest_all: every landed extract registered as a dynamic partition (what the
              landing sensor does), then `ingest_<source>` once per new extract date
    refresh   `refresh_warehouse` (one run: linkage steps, then the dbt build step)
    publish   `publish_cohorts` once per Protect NoW project, `publish_outreach_plan`,
              `publish_projection`

Times come from the runs' own Dagster event logs (RUN_START/RUN_SUCCESS, STEP_START/
STEP_SUCCESS), read back from the instance after each stage: a stage's `wall_s` runs from
its first run's start to its last run's end; `linkage` and `dbt_build` are the summed
durations of refresh_warehouse's identity steps and of its dbt step. Each stage is a
child process whose process tree (dbt runs as a subprocess) is sampled from /proc every
0.2 s: `peak_rss_gib` is the largest total resident memory of the tree while the stage's
runs (or steps) ran, `cpu_s` the tree's CPU seconds over the same window. `process_s` is
the child's wall time including Python start-up and imports (what `make run` adds once).
The data directory holds no ground truth, as a real ICS's does not: the refresh does not
score itself (identity/person_index's accuracy_against_truth check then has nothing to
gate; `--truth-in-data` puts the truth there). After each refresh, linkage accuracy is
measured against the generator's truth (untimed), separately for people with a valid NHS
number and people without one (above 909,091 people the 999 range is exhausted:
docs/scale.md). Writes benchmarks/results/e2e-<date>.md and .json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
STAGES = ("ingest", "refresh", "publish")
# rows of the report: refresh_warehouse split by its steps
ROWS = ("ingest", "linkage", "dbt_build", "refresh_other", "refresh_warehouse", "publish")
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_S = 0.2


# --------------------------------------------------------------------------- child side

def child(stage: str, data_dir: Path) -> int:
    """Run one stage's jobs as `make run` does, on the instance at DAGSTER_HOME."""
    import dagster as dg

    from dagster_project import run
    from dagster_project.definitions import defs
    from dagster_project.lib.zones import Zones

    run.quiet_libraries()
    zones = Zones.at(data_dir)
    console = run.Console(out=sys.stderr, log=zones.logs / "bench_e2e.log")
    with dg.DagsterInstance.get() as instance:
        if stage == "ingest":
            failures = run.ingest_all(defs, zones, instance, console, only_new=True)
            ok = not failures
        elif stage == "refresh":
            ok = run.refresh_warehouse(defs, zones, instance, console)
        elif stage == "publish":
            from dagster_project.outreach.build import publish_plan

            ok = run.publish_cohorts(defs, zones, instance, console)
            with console.stage("outreach plan", "publish") as s, console.captured():
                s.ok = publish_plan(zones, instance)
            ok = run.publish_projection(defs, zones, instance, console) and ok and s.ok
        else:
            raise SystemExit(f"unknown stage {stage}")
    return 0 if ok else 1


def child_accuracy(data_dir: Path, truth_dir: Path) -> int:
    """Pairwise linkage accuracy by NHS-number status of the true person (json on stdout)."""
    import polars as pl

    from dagster_project.lib.zones import Zones
    from dagster_project.linkage import pipeline
    from dagster_project.linkage.evaluation import pairwise_metrics_by_nhs_status

    zones = Zones.at(data_dir)
    truth = pl.read_parquet(truth_dir / "person_records.parquet", columns=[
        "source", "table", "practice_code", "record_id", "true_person_id"])
    people = pl.read_parquet(truth_dir / "people.parquet", columns=["true_person_id", "nhs_number"])
    index = pl.read_parquet(zones.identity / pipeline.PERSON_INDEX)
    print(json.dumps(pairwise_metrics_by_nhs_status(index, truth, people)))
    return 0


# ------------------------------------------------------------------- /proc sampling

def _tree(root: int) -> list[int]:
    """root and its descendants (from /proc/<pid>/task/<tid>/children)."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return out


def _rss_cpu(pid: int) -> tuple[int, float]:
    """(resident bytes, CPU seconds of the process and its waited-for children)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        # fields[0] is state (field 3): utime 14, stime 15, cutime 16, cstime 17, rss 24
        cpu = sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS
        return int(fields[21]) * PAGE, cpu
    except (OSError, IndexError, ValueError):
        return 0, 0.0


class TreeSampler(threading.Thread):
    """Samples (epoch, total RSS bytes, total CPU s) of a process tree until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()
        self.cpu_seen: dict[int, float] = {}  # last CPU of each pid (a child's time moves to
        # its parent's cutime when reaped; until then count it where it is)

    def sample(self) -> None:
        rss, cpu = 0, 0.0
        for pid in _tree(self.pid):
            r, c = _rss_cpu(pid)
            rss, cpu = rss + r, cpu + c
        self.samples.append((time.time(), rss, cpu))

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(SAMPLE_S)

    def window(self, start: float, end: float) -> dict:
        """Peak RSS and CPU seconds between two epoch times."""
        inside = [s for s in self.samples if start - SAMPLE_S <= s[0] <= end + SAMPLE_S] or self.samples[-1:]
        before = [s for s in self.samples if s[0] <= start] or self.samples[:1]
        after = [s for s in self.samples if s[0] >= end] or self.samples[-1:]
        return {"peak_rss_gib": round(max(s[1] for s in inside) / 2**30, 2),
                "cpu_s": round(max(after[0][2] - before[-1][2], 0.0), 1)}


# ------------------------------------------------------------------- event log

def run_ids(instance) -> set[str]:
    return {r.run_id for r in instance.get_runs()}


def run_timings(instance, run_id: str) -> dict:
    """Run and step start/end times (epoch) from the run's own event log."""
    import dagster as dg

    T = dg.DagsterEventType
    kinds = {T.RUN_START, T.RUN_SUCCESS, T.RUN_FAILURE, T.STEP_START, T.STEP_SUCCESS,
             T.STEP_FAILURE, T.ASSET_MATERIALIZATION}
    run = instance.get_run_by_id(run_id)
    out = {"run_id": run_id, "job": run.job_name, "partition": run.tags.get("dagster/partition"),
           "status": run.status.value, "start": None, "end": None, "steps": {}}
    for entry in instance.all_logs(run_id, of_type=kinds):
        event, t = entry.dagster_event, entry.timestamp
        if event.event_type == T.RUN_START:
            out["start"] = t
        elif event.event_type in (T.RUN_SUCCESS, T.RUN_FAILURE):
            out["end"] = t
        elif event.step_key:
            step = out["steps"].setdefault(event.step_key, {"start": None, "end": None, "assets": set()})
            if event.event_type == T.STEP_START:
                step["start"] = t
            elif event.event_type in (T.STEP_SUCCESS, T.STEP_FAILURE):
                step["end"], step["ok"] = t, event.event_type == T.STEP_SUCCESS
            else:
                step["assets"].add(event.asset_key.path[0])
    return out


def failed_checks(instance, run_id: str) -> list[str]:
    """Failed asset checks and step errors of a run, for the failure message."""
    import dagster as dg

    T = dg.DagsterEventType
    out = []
    for entry in instance.all_logs(run_id, of_type={T.ASSET_CHECK_EVALUATION, T.STEP_FAILURE}):
        event = entry.dagster_event
        if event.event_type == T.STEP_FAILURE:
            out.append(f"  step {event.step_key}: {event.step_failure_data.error.message.strip()[:500]}")
        elif not event.event_specific_data.passed:
            data = event.event_specific_data
            meta = {k: getattr(v, "value", v) for k, v in (data.metadata or {}).items()}
            out.append(f"  check {data.asset_key.to_user_string()}:{data.check_name} "
                       f"({data.severity.value}): {str(meta)[:800]}")
    return out


def step_row(step_key: str, step: dict) -> str:
    """Which report row a step of refresh_warehouse belongs to (by what it materialised)."""
    if "dbt" in step_key or step["assets"] == {"warehouse"}:
        return "dbt_build"
    if step["assets"] == {"identity"} or (not step["assets"] and step_key.startswith("identity")):
        return "linkage"
    return "refresh_other"


# ------------------------------------------------------------------- parent side

class StageFailed(RuntimeError):
    """A stage's run failed; carries what was measured up to the failure."""

    def __init__(self, message: str, sampler: TreeSampler, runs: list[dict]):
        super().__init__(message)
        self.sampler, self.runs = sampler, runs


def run_stage(data_dir: Path, stage: str, env: dict) -> tuple[dict, TreeSampler, list[dict]]:
    """Run one stage in a child process; its runs' timings from the instance's event log."""
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        before = run_ids(instance)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, __file__, "--child", stage, "--data-dir", str(data_dir)],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    err = proc.stderr.read()
    proc.wait()
    sampler.stop.set()
    sampler.join()
    process_s = round(time.monotonic() - started, 1)
    with dg.DagsterInstance.get() as instance:
        runs = [run_timings(instance, r) for r in run_ids(instance) - before]
    runs.sort(key=lambda r: r["start"] or 0)
    if proc.returncode != 0 or any(r["status"] != "SUCCESS" for r in runs):
        with dg.DagsterInstance.get() as instance:
            why = [failed_checks(instance, r["run_id"]) for r in runs if r["status"] != "SUCCESS"]
        peak = max((x[1] for x in sampler.samples), default=0) / 2**30
        raise StageFailed(f"stage {stage} failed (exit {proc.returncode}; after {process_s} s, process "
                          f"tree peak RSS {peak:.2f} GiB):\n{err[-4000:]}\n"
                          + "\n".join(line for lines in why for line in lines), sampler, runs)
    sys.stderr.write(err)
    start, end = min(r["start"] for r in runs), max(r["end"] for r in runs)
    whole = {"wall_s": round(end - start, 1), "runs": len(runs),
             "runs_s": round(sum(r["end"] - r["start"] for r in runs), 1),
             "process_s": process_s, **sampler.window(start, end)}
    return whole, sampler, runs


def refresh_rows(sampler: TreeSampler, runs: list[dict]) -> dict:
    """linkage / dbt_build / refresh_other rows from refresh_warehouse's step events."""
    rows: dict[str, dict] = {}
    for r in runs:
        for key, step in r["steps"].items():
            if step["start"] is None or step["end"] is None:
                continue
            row = rows.setdefault(step_row(key, step), {"wall_s": 0.0, "cpu_s": 0.0, "peak_rss_gib": 0.0,
                                                        "steps": []})
            w = sampler.window(step["start"], step["end"])
            row["wall_s"] += step["end"] - step["start"]
            row["cpu_s"] += w["cpu_s"]
            row["peak_rss_gib"] = max(row["peak_rss_gib"], w["peak_rss_gib"])
            row["steps"].append({"step": key, "s": round(step["end"] - step["start"], 1)})
    for row in rows.values():
        row["wall_s"], row["cpu_s"] = round(row["wall_s"], 1), round(row["cpu_s"], 1)
    return rows


def refresh(data_dir: Path, env: dict, partial: dict | None = None) -> dict:
    """One refresh (ingest, refresh_warehouse, publish): report rows and the runs. `partial`
    receives each stage's rows as it completes (kept when a later stage fails)."""
    result, all_runs = {} if partial is None else partial, []
    for stage in STAGES:
        try:
            whole, sampler, runs = run_stage(data_dir, stage, env)
        except StageFailed as failed:  # keep the step times measured up to the failure
            if stage == "refresh":
                result.update({f"{row} (failed run)": m for row, m in refresh_rows(failed.sampler, failed.runs).items()})
            raise
        all_runs += [{**r, "stage": stage, "steps": {k: {"s": round((v["end"] or 0) - (v["start"] or 0), 1)}
                                                     for k, v in r["steps"].items()}} for r in runs]
        if stage == "refresh":
            rows = refresh_rows(sampler, runs)
            result.update(rows)
            result["refresh_warehouse"] = whole
        else:
            result[stage] = whole
    total = {"wall_s": round(sum(result[s]["wall_s"] for s in ("ingest", "refresh_warehouse", "publish")), 1),
             "cpu_s": round(sum(result[s]["cpu_s"] for s in ("ingest", "refresh_warehouse", "publish")), 1),
             "process_s": round(sum(result[s]["process_s"] for s in ("ingest", "refresh_warehouse", "publish")), 1),
             "peak_rss_gib": max(result[s]["peak_rss_gib"] for s in ("ingest", "refresh_warehouse", "publish"))}
    return {"stages": result, "total": total, "runs": all_runs}


def accuracy(data_dir: Path, truth_dir: Path, env: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", "accuracy", "--data-dir", str(data_dir),
                          "--truth", str(truth_dir)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr[-2000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def deliver(source_landing: Path, landing: Path, dates: list[str]) -> None:
    """Hard-link extract folders into landing (same bytes, no copy of a 13 GB ICS)."""
    for source_dir in source_landing.iterdir():
        for d in dates:
            if (source_dir / d).is_dir() and not (landing / source_dir.name / d).exists():
                shutil.copytree(source_dir / d, landing / source_dir.name / d, copy_function=os.link)


def generate(persons: int, seed: int, out: Path) -> float:
    t = time.monotonic()
    subprocess.run([sys.executable, "-m", "dagster_project.synthetic", "--persons", str(persons),
                    "--seed", str(seed), "--extracts", "4", "--out", str(out)], check=True, cwd=ROOT)
    return round(time.monotonic() - t, 1)


def bench(persons: int, seed: int, keep: bool, work_root: Path | None, generated: Path | None,
          with_accuracy: bool, truth_in_data: bool, save) -> dict:
    """One size; `save(out)` after each refresh, so a run that dies later keeps what it measured."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-e2e-{persons}-", dir=work_root)).resolve()
    data_dir = work / "data"
    generate_s = None
    if generated is None:
        generated = work / "generated"
        generate_s = generate(persons, seed, generated)
    dates = sorted(p.name for p in (generated / "landing" / "gp").iterdir())
    (data_dir / "landing").mkdir(parents=True)
    if truth_in_data:  # the refresh then scores itself against it (and its check can block)
        shutil.copytree(generated / "truth", data_dir / "truth")
    env = {**os.environ, "PHM_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home"),
           "PHM_PSEUDO_KEY": os.environ.get("PHM_PSEUDO_KEY", "benchmark-key-not-a-secret")}
    Path(env["DAGSTER_HOME"]).mkdir(parents=True)
    # the instance configuration `make ui` installs (SQLite storage, pools, run limits)
    shutil.copy(ROOT / "deploy" / "dagster.yaml", Path(env["DAGSTER_HOME"]) / "dagster.yaml")
    os.environ.update({k: env[k] for k in ("PHM_DATA_DIR", "DAGSTER_HOME")})  # this process reads the instance
    out = {"persons": persons, "seed": seed if generate_s is not None else None,
           "generated": str(generated), "generate_s": generate_s, "extracts": dates,
           "truth_in_data_dir": truth_in_data}
    partial: dict = {}
    try:
        deliver(generated / "landing", data_dir / "landing", dates[:-1])
        out["full"] = refresh(data_dir, env, partial := {})
        save(out)
        if with_accuracy:
            out["full"]["linkage_accuracy"] = accuracy(data_dir, generated / "truth", env)
            save(out)
        deliver(generated / "landing", data_dir / "landing", dates[-1:])
        out["incremental"] = refresh(data_dir, env, partial := {})
        save(out)
        if with_accuracy:
            out["incremental"]["linkage_accuracy"] = accuracy(data_dir, generated / "truth", env)
    except Exception as exc:  # noqa: BLE001 - recorded in the result, the other sizes still run
        out["error"] = f"{type(exc).__name__}: {exc}"[-3000:]
        kind = "incremental" if "full" in out else "full"
        if partial:  # the stages that completed before the failure
            out[kind] = {"stages": partial, "failed": True}
        save(out)
        print(out["error"], file=sys.stderr)
    finally:
        out["disk_gib"] = round(sum(f.stat().st_size for f in work.rglob("*") if f.is_file()) / 2**30, 2)
        if not keep:
            shutil.rmtree(work)
    return out


def report(runs: list[dict], today: str) -> str:
    lines = [f"# End-to-end benchmark, {today}", "",
             "Stages are the named Dagster jobs `make run` launches (ingest_<source> per extract, "
             "refresh_warehouse, publish_cohorts per project, publish_outreach_plan, "
             "publish_projection) on a persistent instance; times from the runs' own event logs, "
             "linkage and dbt_build from refresh_warehouse's step events; peak RSS = the stage "
             "process tree (dbt included), sampled every 0.2 s. process s = the stage's child "
             "process including Python start-up and imports.", "",
             f"Machine: {machine()}", "",
             "| persons | refresh | stage | wall s | CPU s | peak RSS GiB | runs | process s |",
             "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in runs:
        for kind in ("full", "incremental"):
            if kind not in r:
                continue
            st = r[kind]["stages"]
            for row in [*ROWS, *(f"{r_} (failed run)" for r_ in ROWS)]:
                if row in st:
                    m = st[row]
                    lines.append(f"| {r['persons']:,} | {kind} | {row} | {m['wall_s']} | {m['cpu_s']} | "
                                 f"{m['peak_rss_gib']} | {m.get('runs', '')} | {m.get('process_s', '')} |")
            if "total" not in r[kind]:
                lines.append(f"| {r['persons']:,} | {kind} | **failed** (stages above completed) | | | | | |")
                continue
            t = r[kind]["total"]
            lines.append(f"| {r['persons']:,} | {kind} | **total** | **{t['wall_s']}** | {t['cpu_s']} | "
                         f"**{t['peak_rss_gib']}** | | {t['process_s']} |")
    acc = [(r, k) for r in runs for k in ("full", "incremental") if "linkage_accuracy" in r.get(k, {})]
    if acc:
        lines += ["", "Linkage accuracy (pairwise, against the synthetic truth) by the true person's NHS number:",
                  "", "| persons | refresh | people | records | people (true) | precision | recall | F1 |",
                  "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for r, k in acc:
            for group, m in r[k]["linkage_accuracy"].items():
                if not isinstance(m, dict):
                    continue
                lines.append(f"| {r['persons']:,} | {k} | {group} | {m['records']:,} | {m['people_true']:,} | "
                             f"{m['precision']} | {m['recall']} | {m['f1']} |")
    for r in runs:
        if "error" in r:
            lines += ["", f"{r['persons']:,} people: FAILED: {r['error'].splitlines()[0]}"]
    lines += ["", "Generation (not part of a refresh): " + ", ".join(
        f"{r['persons']:,} people " + (f"{r['generate_s']} s (seed {r['seed']})" if r["generate_s"] is not None
                                       else f"pre-generated at {r['generated']}") for r in runs)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[1_100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--generated", type=Path, help="a generated ICS (--extracts 4) to use instead "
                        "of generating one (one --persons value)")
    parser.add_argument("--work-dir", type=Path, help="where the benchmark's data goes (default: temp)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-accuracy", action="store_true")
    parser.add_argument("--truth-in-data", action="store_true", help="put the generator's truth in the "
                        "data directory, so the refresh scores itself against it (identity/person_index's "
                        "blocking accuracy_against_truth check); default: none there, as in a real ICS")
    parser.add_argument("--truth", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", help="result file stem (default e2e-<date>)")
    parser.add_argument("--merge", action="store_true", help="keep the other sizes already in the "
                        "result file (a size measured again is replaced)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "accuracy":
        return child_accuracy(args.data_dir, args.truth)
    if args.child:
        return child(args.child, args.data_dir)
    if args.generated and len(args.persons) != 1:
        parser.error("--generated takes one --persons value")
    # the dbt assets load from the manifest (as `make run` does first)
    subprocess.run([str(Path(sys.executable).parent / "dbt"), "parse", "--quiet", "--project-dir", "dbt",
                    "--profiles-dir", "dbt"], cwd=ROOT, check=True)
    today = dt.date.today().isoformat()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / (args.out or f"e2e-{today}")
    earlier = (json.loads(stem.with_suffix(".json").read_text())["runs"]
               if args.merge and stem.with_suffix(".json").exists() else [])
    done: list[dict] = []

    def save(current: dict | None = None) -> str:
        runs = done + ([current] if current is not None else [])
        mine = {r["persons"] for r in runs}
        runs = sorted([r for r in earlier if r["persons"] not in mine] + runs, key=lambda r: r["persons"])
        text = report(runs, today)
        stem.with_suffix(".md").write_text(text + "\n")
        stem.with_suffix(".json").write_text(json.dumps({"runs": runs, "machine": machine()}, indent=2,
                                                        default=str))
        return text

    for n in args.persons:
        done.append(bench(n, args.seed, args.keep, args.work_dir, args.generated, not args.no_accuracy,
                          args.truth_in_data, save))
    print(save())
    return 1 if any("error" in r for r in done) else 0


if __name__ == "__main__":
    sys.exit(main())
