"""Benchmark the synthetic ICS generator: wall time and peak memory per population size.

Each size runs the CLI in a fresh wrapper subprocess, so that the wrapper's
RUSAGE_CHILDREN peak RSS is the generator's own. Output goes to a temporary directory
under --out-dir (removed afterwards). Results: a markdown table on stdout and
benchmarks/results/generator-<date>.md and .json with the machine description.

    python benchmarks/bench_generator.py --persons 100000 1100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
TARGETS_S = {100_000: 60, 1_100_000: 600}
MEMORY_TARGET_GIB = 8

WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
res = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"returncode": res.returncode, "wall_s": wall, "peak_rss_kib": peak_kib,
                  "stdout": res.stdout, "stderr": res.stderr[-4000:]}))
"""


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                       if x.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kib = 0
    import numpy
    import polars
    return {"nproc": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1), "cpu": cpu,
            "python": platform.python_version(), "polars": polars.__version__,
            "numpy": numpy.__version__, "platform": platform.platform()}


def run_one(persons: int, out_dir: Path, seed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=f"bench-{persons}-") as tmp:
        cmd = [sys.executable, "-c", WRAPPER, sys.executable, "-m", "dagster_project.synthetic",
               "--persons", str(persons), "--seed", str(seed), "--out", tmp]
        res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
        result = json.loads(res.stdout)
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    if result["returncode"] != 0:
        raise RuntimeError(f"generator failed at {persons} persons:\n{result['stderr']}")
    rows = {}
    for line in result["stdout"].splitlines():
        parts = line.split()
        if len(parts) == 2 and "/" in parts[0]:
            rows[parts[0]] = int(parts[1].replace(",", ""))
    peak_gib = result["peak_rss_kib"] / 2**20
    target = TARGETS_S.get(persons)
    return {"persons": persons, "wall_s": round(result["wall_s"], 1),
            "peak_rss_gib": round(peak_gib, 2), "output_gib": round(size / 2**30, 2),
            "target_s": target,
            "meets_target": (target is None or result["wall_s"] <= target)
            and peak_gib < MEMORY_TARGET_GIB, "rows": rows}


def markdown(results: list[dict[str, object]], mach: dict[str, object]) -> str:
    lines = [f"# Synthetic generator benchmark ({dt.date.today().isoformat()})", "",
             f"Machine: {mach['nproc']} cores, {mach['memory_gib']} GiB, {mach['cpu']}; "
             f"Python {mach['python']}, polars {mach['polars']}, numpy {mach['numpy']}.", "",
             "| persons | wall (s) | target (s) | peak RSS (GiB) | output (GiB) | gp/events rows "
             "| ok |", "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        rows = r["rows"]
        lines.append(f"| {r['persons']:,} | {r['wall_s']} | {r['target_s'] or '-'} | "
                     f"{r['peak_rss_gib']} | {r['output_gib']} | "
                     f"{rows.get('gp/events', 0):,} | {'yes' if r['meets_target'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--persons", type=int, nargs="+", default=[100_000, 1_100_000])
    p.add_argument("--out-dir", type=Path, default=REPO / "data")
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    a.out_dir.mkdir(parents=True, exist_ok=True)
    mach = machine()
    results = []
    for n in a.persons:
        r = run_one(n, a.out_dir, a.seed)
        print(f"{n:>10,} persons: {r['wall_s']} s, peak {r['peak_rss_gib']} GiB", flush=True)
        results.append(r)
    md = markdown(results, mach)
    print(md)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"generator-{dt.date.today().isoformat()}"
    stem.with_suffix(".md").write_text(md)
    stem.with_suffix(".json").write_text(json.dumps({"machine": mach, "results": results},
                                                    indent=2) + "\n")


if __name__ == "__main__":
    main()
