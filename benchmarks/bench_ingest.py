"""Benchmark: ingest against the floor, a plain DuckDB typed read of the same CSVs.

    python benchmarks/bench_ingest.py --persons 200000 [--data-dir DIR] [--repeats 3]
                                      [--modes duckdb,polars,gx] [--gx-repeats 1] [--keep]

Generates the ICS (unless DIR already holds its landing zone), then, `--repeats` times and
interleaved so that a busy machine slows every mode alike, runs in a fresh child process:

- `duckdb`: the floor. DuckDB's `read_csv` of every delivered table file with the
  registry's column types, into Arrow; nothing else.
- `polars`: ingest as production runs it: `sources.ingest.ingest_partition` (what the
  Dagster asset calls) for every table and extract date into an empty raw zone: read and
  type, stage Parquet, audit columns, the GX suite evaluated in polars, report, publish.
- `gx`: the same, with the suite run by GX itself on pandas batches
  (`quality.gx_runner.run_suite_gx`, how ingest validated before): the "before" figure.

Reports, per mode, the median wall time, landing bytes per second, peak RSS of the child,
and the ratio of each ingest to the DuckDB read (target: within 3x). Writes
benchmarks/results/ingest-<persons>-<date>.{md,json}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODES = ("duckdb", "polars", "gx")

# every child lists the same files: the delivered table file of each table and extract date
FILES = """
from dagster_project.lib.zones import Zones
from dagster_project.sources.landing import discover_extracts, find_table_file
from dagster_project.sources.registry import load_registry
zones = Zones.at(sys.argv[1])
files = [(spec, d, find_table_file(zones.landing / spec.source / d, spec.table))
         for spec in load_registry().values()
         for d in discover_extracts(zones.landing, spec.source).dates]
"""

CHILD = {
    "duckdb": """
import duckdb
TYPES = {"string": "VARCHAR", "date": "DATE", "integer": "BIGINT", "float": "DOUBLE"}
con = duckdb.connect()
started, rows, tables = time.perf_counter(), 0, {}
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
for spec, d, f in files:
    t0 = time.perf_counter()
    table = con.execute("select * from read_csv(?, header = true, types = ?)",
                        [str(f), {c.name: TYPES[c.type] for c in spec.columns}]).to_arrow_table()
    rows += table.num_rows
    tables[spec.name] = tables.get(spec.name, 0) + time.perf_counter() - t0
    del table
ok = True
""",
    "polars": """
from dagster_project.sources import ingest
""",
    "gx": """
from dagster_project.sources import ingest
from dagster_project.quality.gx_runner import run_suite_gx
ingest.run_suite = run_suite_gx  # the suite run by GX on pandas batches, as before
""",
}
INGEST = """
started, rows, tables, ok = time.perf_counter(), 0, {}, True
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
for spec, d, f in files:
    t0 = time.perf_counter()
    r = ingest.ingest_partition(zones, spec, d)
    rows += r.rows
    ok = ok and r.published
    if not r.published:
        print(r.reason, file=sys.stderr)
    tables[spec.name] = tables.get(spec.name, 0) + time.perf_counter() - t0
"""
REPORT = """
cpu1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall_s": time.perf_counter() - started, "rows": rows, "ok": ok,
                  "cpu_s": cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime,
                  "tables": {k: round(v, 2) for k, v in tables.items()},
                  "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def child_source(mode: str) -> str:
    body = CHILD[mode] + (INGEST if mode != "duckdb" else "")
    return "import json, resource, sys, time\n" + FILES + body + REPORT


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = next((int(ln.split()[1]) / 2**20 for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")), 0)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1),
            "python": platform.python_version(), "load_average": os.getloadavg()}


def landing_bytes(data_dir: Path) -> int:
    out = subprocess.run([sys.executable, "-c", "import sys\n" + FILES +
                          "print(sum(f.stat().st_size for _, _, f in files))", str(data_dir)],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def run_mode(mode: str, data_dir: Path) -> dict:
    for zone in ("raw", "quarantine", "reports"):  # every ingest starts from an empty raw zone
        shutil.rmtree(data_dir / zone, ignore_errors=True)
    out = subprocess.run([sys.executable, "-c", child_source(mode), str(data_dir)], cwd=ROOT,
                         capture_output=True, text=True,
                         env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--gx-repeats", type=int, default=1,
                        help="run the slow GX (before) mode only in the first N repeats")
    parser.add_argument("--keep", action="store_true", help="keep the generated data directory")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    generation_s = None
    if not (data_dir / "landing").exists():
        print(f"generating {args.persons:,} people into {data_dir} ...", flush=True)
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "dagster_project.synthetic", "--persons",
                        str(args.persons), "--seed", str(args.seed), "--out", str(data_dir)],
                       check=True, cwd=ROOT)
        generation_s = round(time.monotonic() - t0, 1)
    size = landing_bytes(data_dir)
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    for r in range(args.repeats):
        for mode in modes:
            if mode == "gx" and r >= args.gx_repeats:
                continue
            res = run_mode(mode, data_dir)
            runs[mode].append(res)
            print(f"run {r + 1} {mode:7s} {res['wall_s']:7.1f} s  cpu {res['cpu_s']:7.1f} s  "
                  f"{res['rows']:,} rows  "
                  f"peak {res['peak_rss_gib']:.2f} GiB", flush=True)
    summary = {}
    for mode, rs in runs.items():
        wall = statistics.median(r["wall_s"] for r in rs)
        summary[mode] = {
            "wall_s": round(wall, 2), "walls_s": [round(r["wall_s"], 2) for r in rs],
            "cpu_s": round(statistics.median(r["cpu_s"] for r in rs), 2),
            "mb_per_s": round(size / wall / 1e6, 1), "rows": rs[0]["rows"],
            "peak_rss_gib": round(max(r["peak_rss_gib"] for r in rs), 2),
            "all_published": all(r["ok"] for r in rs),
            "tables_s": {t: round(statistics.median(r["tables"][t] for r in rs), 2)
                         for t in rs[0]["tables"]},
        }
    if "duckdb" in summary:
        for mode in summary:
            summary[mode]["x_duckdb_read"] = round(summary[mode]["wall_s"] / summary["duckdb"]["wall_s"], 2)
            summary[mode]["x_duckdb_read_cpu"] = round(summary[mode]["cpu_s"] / summary["duckdb"]["cpu_s"], 2)
    result = {"persons": args.persons, "seed": args.seed, "landing_bytes": size,
              "generation_s": generation_s, "repeats": args.repeats, "modes": summary,
              "date": dt.date.today().isoformat(), "machine": machine()}
    lines = [f"# Ingest benchmark: {args.persons:,} people, {result['date']}", "",
             f"Landing: {size / 1e6:,.0f} MB of CSV, {summary[modes[0]]['rows']:,} rows; median of "
             f"{args.repeats} interleaved runs"
             + (f" (gx: {min(args.gx_repeats, args.repeats)})" if "gx" in modes else "") + ", each in a "
             "fresh process. CPU s (user + system, all threads) is the steadier figure on a "
             "shared machine.", "",
             f"Machine: {result['machine']}", "",
             "| mode | what | wall s (median) | MB/s | x DuckDB read (wall) | CPU s (median) "
             "| x DuckDB read (CPU) | peak RSS GiB |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    what = {"duckdb": "DuckDB read_csv, registry types, to Arrow (the floor)",
            "polars": "ingest_partition, suite evaluated in polars (production)",
            "gx": "ingest_partition, suite run by GX on pandas batches (before)"}
    for mode, s in summary.items():
        lines.append(f"| {mode} | {what[mode]} | {s['wall_s']} | {s['mb_per_s']} | "
                     f"{s.get('x_duckdb_read', '')} | {s['cpu_s']} | {s.get('x_duckdb_read_cpu', '')} | "
                     f"{s['peak_rss_gib']} |")
    tables = list(summary[modes[0]]["tables_s"])
    lines += ["", "Per table, median seconds (all extract dates):", "",
              "| table | " + " | ".join(modes) + " |", "| --- |" + " ---: |" * len(modes)]
    lines += [f"| {t} | " + " | ".join(str(summary[m]["tables_s"].get(t, "")) for m in modes) + " |"
              for t in tables]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"ingest-{args.persons}-{result['date']}"
    stem.with_suffix(".md").write_text(report + "\n")
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2))
    if not args.keep and not args.data_dir:
        shutil.rmtree(data_dir)
    return 0 if all(s["all_published"] for s in summary.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
