"""Benchmark: gate and load every extract of a synthetic ICS into the raw zone.

    python benchmarks/bench_ingest.py --persons 1100000 [--data-dir DIR] [--keep]

Generates the ICS (unless DIR already holds its landing zone), then ingests every extract
of every table in a fresh child process, timing each table, and reports wall time, CPU
time and peak memory (RSS of the child). Writes benchmarks/results/ingest-<date>.{md,json}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

CHILD = """
import json, sys, time, resource
from dagster_project.lib.zones import Zones
from dagster_project.sources.ingest import ingest_partition
from dagster_project.sources.landing import discover_extracts
from dagster_project.sources.registry import load_registry
zones = Zones.at(sys.argv[1])
rows = []
for spec in load_registry().values():
    started, cpu0 = time.monotonic(), time.process_time()
    total, ok = 0, True
    for d in discover_extracts(zones.landing, spec.source).dates:
        r = ingest_partition(zones, spec, d)
        total += r.rows
        ok = ok and r.published
        if not r.published:
            print(r.reason, file=sys.stderr)
    rows.append({"table": spec.name, "rows": total, "published": ok,
                 "wall_s": round(time.monotonic() - started, 2),
                 "cpu_s": round(time.process_time() - cpu0, 2)})
print(json.dumps({"tables": rows,
                  "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = next((int(ln.split()[1]) / 2**20 for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")), 0)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1),
            "python": platform.python_version()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the generated data directory")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    if not (data_dir / "landing").exists():
        print(f"generating {args.persons:,} people into {data_dir} ...", flush=True)
        subprocess.run([sys.executable, "-m", "dagster_project.synthetic", "--persons",
                        str(args.persons), "--out", str(data_dir)], check=True, cwd=ROOT)
    shutil.rmtree(data_dir / "raw", ignore_errors=True)
    shutil.rmtree(data_dir / "quarantine", ignore_errors=True)
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-c", CHILD, str(data_dir)], check=True, cwd=ROOT,
                         capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic() - started
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update({
        "persons": args.persons, "wall_s": round(wall, 1),
        "cpu_s": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 1),
        "date": dt.date.today().isoformat(), "machine": machine(),
    })
    lines = [f"# Ingest benchmark: {args.persons:,} people, {result['date']}", "",
             f"Machine: {result['machine']}", "",
             "| table | rows (all extracts) | wall s | cpu s | published |", "| --- | ---: | ---: | ---: | --- |"]
    lines += [f"| {t['table']} | {t['rows']:,} | {t['wall_s']} | {t['cpu_s']} | {t['published']} |"
              for t in result["tables"]]
    lines += ["", f"Total wall {result['wall_s']} s, CPU {result['cpu_s']} s, "
              f"peak RSS {result['peak_rss_gib']:.2f} GiB"]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"ingest-{args.persons}-{result['date']}"
    stem.with_suffix(".md").write_text(report + "\n")
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2))
    if not args.keep and not args.data_dir:
        shutil.rmtree(data_dir)
    return 0 if all(t["published"] for t in result["tables"]) else 1


if __name__ == "__main__":
    sys.exit(main())
