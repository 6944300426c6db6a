"""Benchmark: a full `dbt build` of the warehouse over a synthetic ICS.

    python benchmarks/bench_dbt.py --persons 1100000 [--data-dir DIR] [--raw-from DIR]

Generates the ICS and ingests every extract into the raw zone (unless DIR already holds a
raw zone, or --raw-from points at one to link to), writes the stand-in identity zone
(tests/dbt/identity_standin.py: pseudo keys from the synthetic truth), then times
`dbt build` (seeds, models, unit and data tests) in a child process: wall time and peak
RSS of the dbt process. Writes benchmarks/results/dbt-<N>-<date>.{md,json} with the
segment sizes and the risk calibration table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

from benchmarks.bench_ingest import machine  # noqa: E402


def prepare(data_dir: Path, persons: int, raw_from: Path | None) -> dict:
    from dagster_project.lib.zones import Zones
    from dagster_project.synthetic import GeneratorConfig, generate
    from tests.dbt.identity_standin import ingest_everything, write_standin_identity

    zones = Zones.at(data_dir)
    timings: dict = {}
    if raw_from is not None:
        for name in ("raw", "truth"):
            link = data_dir / name
            if not link.exists():
                data_dir.mkdir(parents=True, exist_ok=True)
                link.symlink_to((raw_from / name).resolve())
    if not (data_dir / "raw").exists():
        t = time.monotonic()
        generate(GeneratorConfig(persons=persons, out=data_dir))
        timings["generate_s"] = round(time.monotonic() - t, 1)
        t = time.monotonic()
        ingest_everything(zones)
        timings["ingest_s"] = round(time.monotonic() - t, 1)
    t = time.monotonic()
    write_standin_identity(zones)
    timings["standin_identity_s"] = round(time.monotonic() - t, 1)
    return timings


def newest_extract(data_dir: Path) -> str:
    folder = data_dir / "raw" / "gp" / "patients"
    return max(p.name.split("=", 1)[1] for p in folder.iterdir() if p.name.startswith("extract_date="))


def run_dbt(data_dir: Path, reference_date: str) -> dict:
    dbt = Path(sys.executable).with_name("dbt")
    from dagster_project.lib.zones import Zones
    from dagster_project.warehouse.builds import new_build_id, promote

    db = Zones.at(data_dir).warehouse_build(reference_date, new_build_id())  # a fresh build's folder
    db.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PHM_DATA_DIR": str(data_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    args = [str(dbt), "build", "--profiles-dir", ".", "--vars",
            json.dumps({"reference_date": reference_date, "warehouse_path": str(db)})]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(args, cwd=ROOT / "dbt", env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode == 0:  # the date's link and warehouse/warehouse.duckdb -> this build, as Dagster does
        promote(Zones.at(data_dir), reference_date, db)
    tail = "\n".join(proc.stdout.splitlines()[-6:])
    if proc.returncode != 0:
        print(proc.stdout[-5000:], proc.stderr[-3000:], file=sys.stderr)
    return {"returncode": proc.returncode, "wall_s": round(wall, 1),
            "cpu_s": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 1),
            "peak_rss_gib": round(after.ru_maxrss / 2**20, 2), "summary": tail}


def warehouse_tables(data_dir: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(data_dir / "warehouse" / "warehouse.duckdb"), read_only=True)
    try:
        segments = con.sql("select segment_code, count(*) as people from marts.mart_segmentation "
                           "group by 1 order by min(segment_priority)").fetchall()
        calibration = con.sql("select risk_decile, people, predicted_admissions, observed_admissions, "
                              "observed_to_predicted from marts.mart_risk_calibration order by 1").fetchall()
        people = con.sql("select count(*) from marts.dim_person").fetchone()[0]
    finally:
        con.close()
    return {"people": people, "segments": segments, "calibration": calibration}


def report(persons: int, result: dict) -> str:
    lines = [f"# dbt build benchmark: {persons:,} people, {result['date']}", "",
             f"Machine: {result['machine']}", "",
             f"Reference date {result['reference_date']}; preparation {result['prepare']}", "",
             f"**dbt build: {result['dbt']['wall_s']} s wall, {result['dbt']['cpu_s']} s CPU, "
             f"peak RSS {result['dbt']['peak_rss_gib']} GiB** (return code {result['dbt']['returncode']})",
             "", "```", result["dbt"]["summary"], "```", "",
             f"Living registered people (dim_person): {result['tables'].get('people', 0):,}", "",
             "| segment | people |", "| --- | ---: |"]
    lines += [f"| {s} | {n:,} |" for s, n in result["tables"].get("segments", [])]
    lines += ["", "Risk calibration (back-test: features a year ago, emergency admissions since)", "",
              "| decile | people | predicted | observed | observed / predicted |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {d} | {p:,} | {pr:,.1f} | {o:,} | {r} |"
              for d, p, pr, o, r in result["tables"].get("calibration", [])]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--raw-from", type=Path, default=None,
                        help="link raw/ and truth/ of an already ingested ICS instead of generating")
    args = parser.parse_args()
    data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="bench-dbt-")) / "data").resolve()
    os.environ["PHM_DATA_DIR"] = str(data_dir)
    prep = prepare(data_dir, args.persons, args.raw_from)
    ref = newest_extract(data_dir)
    dbt_result = run_dbt(data_dir, ref)
    tables = warehouse_tables(data_dir) if dbt_result["returncode"] == 0 else {}
    today = dt.date.today().isoformat()
    result = {"persons": args.persons, "date": today, "machine": machine(), "prepare": prep,
              "reference_date": ref, "dbt": dbt_result, "tables": tables}
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"dbt-{args.persons}-{today}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str))
    stem.with_suffix(".md").write_text(report(args.persons, result))
    print(report(args.persons, result))
    return dbt_result["returncode"]


if __name__ == "__main__":
    sys.exit(main())
