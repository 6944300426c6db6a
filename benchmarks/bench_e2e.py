"""End-to-end benchmark: a full refresh, then an incremental one, stage by stage.

    python benchmarks/bench_e2e.py --persons 1100000
    python benchmarks/bench_e2e.py --persons 50000 200000 1100000   # scaling curve

For each size: generate a synthetic ICS with one extract more than the refresh uses
(4 monthly extracts); deliver the first 3 to landing and run a full refresh (ingest and
gates, linkage, dbt build, publishing); then deliver the 4th and run an incremental refresh
(ingest the new extracts only, relink, rebuild, republish). Each stage runs in its own
child process so its wall time, CPU time and peak memory are its own. Writes
benchmarks/results/e2e-<date>.md and .json with the machine description.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# every stage runs the named jobs of the Definitions (as `make run`, the UI and the
# automation sensor do), on an ephemeral instance
STAGES = {
    "ingest": """
from dagster_project.definitions import defs
from dagster_project.run import Console, ingest_all
with dg.DagsterInstance.ephemeral() as instance:
    failures = ingest_all(defs, zones, instance, Console(out=sys.stderr), only_new=True)
assert not failures, failures
""",
    "linkage": """
from dagster_project.definitions import defs
job = defs.resolve_job_def("refresh_warehouse")
keys = [k for k in job.asset_layer.selected_asset_keys if k.path[0] == "identity"]
assert execute_job("refresh_warehouse", asset_selection=keys).success
""",
    "dbt_build": """
from dagster_project.warehouse.build import materialise_warehouse
assert materialise_warehouse(zones).success
""",
    "publish": """
from dagster_project.cohorts.build import publish_all
assert publish_all(zones, None)
""",
}

CHILD = """
import json, os, resource, sys, time
os.environ["PHM_DATA_DIR"] = sys.argv[1]
os.environ.setdefault("PHM_PSEUDO_KEY", "benchmark-key-not-a-secret")
import dagster as dg
from dagster_project.lib.zones import Zones
zones = Zones.at(sys.argv[1])
from dagster_project.ops.jobs import execute_job
t, c = time.monotonic(), time.process_time()
exec(sys.argv[2])
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": round(time.monotonic() - t, 1),
                  "cpu_s": round(time.process_time() - c + ru.ru_utime + ru.ru_stime, 1),
                  "peak_rss_gib": round(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                            ru.ru_maxrss) / 2**20, 2)}))
"""


def run_stage(data_dir: Path, name: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(data_dir), STAGES[name]], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"stage {name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def deliver(source_landing: Path, landing: Path, dates: list[str]) -> None:
    for source_dir in source_landing.iterdir():
        for d in dates:
            if (source_dir / d).is_dir() and not (landing / source_dir.name / d).exists():
                shutil.copytree(source_dir / d, landing / source_dir.name / d)


def bench(persons: int, keep: bool) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench-e2e-{persons}-"))
    generated, data_dir = work / "generated", work / "data"
    t = time.monotonic()
    subprocess.run([sys.executable, "-m", "dagster_project.synthetic", "--persons", str(persons),
                    "--extracts", "4", "--out", str(generated)], check=True, cwd=ROOT, capture_output=True)
    generate_s = round(time.monotonic() - t, 1)
    dates = sorted(p.name for p in (generated / "landing" / "gp").iterdir())
    (data_dir / "landing").mkdir(parents=True)
    shutil.copytree(generated / "truth", data_dir / "truth")
    deliver(generated / "landing", data_dir / "landing", dates[:-1])
    full = {name: run_stage(data_dir, name) for name in STAGES}
    deliver(generated / "landing", data_dir / "landing", dates[-1:])
    incremental = {name: run_stage(data_dir, name) for name in STAGES}
    if not keep:
        shutil.rmtree(work)
    return {"persons": persons, "generate_s": generate_s, "full": full, "incremental": incremental,
            "extracts": dates}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, nargs="+", default=[1_100_000])
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    runs = [bench(n, args.keep) for n in args.persons]
    today = dt.date.today().isoformat()
    lines = [f"# End-to-end benchmark, {today}", "", f"Machine: {machine()}", "",
             "| persons | refresh | stage | wall s | CPU s | peak RSS GiB |", "| ---: | --- | --- | ---: | ---: | ---: |"]
    for r in runs:
        for kind in ("full", "incremental"):
            for stage, m in r[kind].items():
                lines.append(f"| {r['persons']:,} | {kind} | {stage} | {m['wall_s']} | {m['cpu_s']} | {m['peak_rss_gib']} |")
            total = sum(m["wall_s"] for m in r[kind].values())
            peak = max(m["peak_rss_gib"] for m in r[kind].values())
            lines.append(f"| {r['persons']:,} | {kind} | **total** | **{total:.1f}** | | **{peak}** |")
    lines += ["", "Generation (not part of a refresh): " +
              ", ".join(f"{r['persons']:,} people {r['generate_s']} s" for r in runs)]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"e2e-{today}"
    stem.with_suffix(".md").write_text(report + "\n")
    stem.with_suffix(".json").write_text(json.dumps({"runs": runs, "machine": machine()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
