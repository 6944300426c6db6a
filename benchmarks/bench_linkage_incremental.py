"""Benchmark: incremental linkage against a full relink after a new month's extracts.

    python benchmarks/bench_linkage_incremental.py --persons 200000 --data-dir DIR
    python benchmarks/bench_linkage_incremental.py --persons 1100000 --data-dir DIR --prepare-only
    python benchmarks/bench_linkage_incremental.py --from-identity OTHER/identity --holdout 0.015 --data-dir DIR

Generates an ICS with four monthly extracts (or reuses DIR), ingests months 1-3, prepares
and links them in full (timed), then ingests month 4, prepares, and times in a copy of the
identity zone (a) the incremental run and (b) a full relink (run config full_relink), each
in a child process (wall, CPU, peak memory), and says whether both gave the same people.
Writes benchmarks/results/linkage-incremental-<persons>-<date>.{md,json}.

`--from-identity` skips generation and ingest: it takes a prepared identity zone (profiles and
the record -> profile map of a large ICS made by another benchmark), holds out a share of
the profiles (and their records) as "month 4", links the rest in full, then adds them back.
Linkage only (no raw zone, so no prepare step); the new profiles are a random sample, not a
month's arrivals (which cluster in new registrations and moves).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MONTH_3 = "2026-10-01"

STEP = """
import json, resource, sys, time
from dagster_project.lib.zones import Zones
from dagster_project.linkage import pipeline
zones = Zones.at(sys.argv[1]); step = sys.argv[2]
t = time.monotonic()
if step == "ingest":
    from dagster_project.sources.ingest import ingest_partition
    from dagster_project.sources.landing import discover_extracts
    from dagster_project.sources.registry import load_registry
    after, up_to = sys.argv[3], sys.argv[4]
    for spec in load_registry().values():
        for d in discover_extracts(zones.landing, spec.source).dates:
            if after < d <= up_to:
                r = ingest_partition(zones, spec, d)
                assert r.published, (spec.name, d, r.reason)
    out = {}
elif step == "prepare":
    out = {k: v for k, v in pipeline.prepare(zones).items() if k != "by_source"}
else:
    r = pipeline.build_person_index(zones, full_relink=(step == "full"))
    out = {"mode": r.mode, "reason": r.mode_reason, "pairs": r.pairs, "pairs_scored_now": r.pairs_scored_now,
           "people": r.person_index["person_id"].n_unique(), **r.facts,
           "seconds": r.seconds}
out["wall_s"] = round(time.monotonic() - t, 1)
usage = resource.getrusage(resource.RUSAGE_SELF)
out["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 1)
out["peak_rss_gib"] = round(usage.ru_maxrss / 2**20, 2)
print(json.dumps(out, default=str))
"""

SAME = """
import sys, polars as pl
KEY = ["source", "table", "practice_code", "record_id"]
a, b = (pl.read_parquet(p).select(*KEY, "person_id") for p in sys.argv[1:3])
# the same partition of records into people (fresh ids are random per run): each record
# labelled with the smallest record key of its person
first = lambda f: f.with_columns(pl.concat_str([pl.col(k).fill_null("") for k in KEY], separator="|").min().over("person_id").alias("g")).sort(KEY, nulls_last=False)["g"]
print(int(a.height == b.height and (first(a) == first(b)).all()))
"""


def run(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", STEP, *args], check=True, cwd=ROOT, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def from_identity(args) -> int:
    import polars as pl

    base = args.data_dir
    month4 = base.parent / f"{base.name}-month4"
    for d in (base, month4):
        (d / "identity").mkdir(parents=True, exist_ok=True)
    steps = {}
    if not (base / "identity" / "linkage_state" / "state.json").exists():  # else month 3 is linked already
        profiles = pl.read_parquet(args.from_identity / "profiles.parquet")
        record_map = pl.read_parquet(args.from_identity / "record_profiles.parquet")
        new = profiles.filter(pl.col("unique_id").hash(seed=42) % 10_000 < int(args.holdout * 10_000))["unique_id"].implode()
        profiles.write_parquet(month4 / "identity" / "profiles.parquet")
        record_map.write_parquet(month4 / "identity" / "record_profiles.parquet")
        profiles.filter(~pl.col("unique_id").is_in(new)).write_parquet(base / "identity" / "profiles.parquet")
        record_map.filter(~pl.col("unique_id").is_in(new)).write_parquet(base / "identity" / "record_profiles.parquet")
        del profiles, record_map
        steps["link_month_3_full"] = run(str(base), "full")
    runs = {}
    for mode in ("incremental", "full"):
        copy = base.parent / f"{base.name}-{mode}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(base, copy)
        for name in ("profiles.parquet", "record_profiles.parquet"):
            shutil.copy(month4 / "identity" / name, copy / "identity" / name)
        runs[mode] = run(str(copy), mode)
    same = subprocess.run([sys.executable, "-c", SAME, *(str(base.parent / f"{base.name}-{m}" / "identity" /
                                                             "person_index.parquet") for m in ("incremental", "full"))],
                          check=True, cwd=ROOT, capture_output=True, text=True).stdout.strip() == "1"
    print(json.dumps({"from": str(args.from_identity), "holdout": args.holdout, "machine": machine(), "steps": steps,
                      "month_4": runs, "same_people": same}, indent=1, default=str))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, required=True, help="the ICS (made once, reused)")
    parser.add_argument("--prepare-only", action="store_true", help="generate, ingest months 1-3, link in full, stop")
    parser.add_argument("--from-identity", type=Path, help="a prepared identity zone to split (no generation)")
    parser.add_argument("--holdout", type=float, default=0.015, help="with --from-identity: share of profiles new")
    args = parser.parse_args()
    base = args.data_dir
    steps: dict = {}
    if args.from_identity:
        return from_identity(args)
    if not (base / "identity" / "linkage_state" / "state.json").exists():
        subprocess.run([sys.executable, "-m", "dagster_project.synthetic", "--persons", str(args.persons),
                        "--seed", str(args.seed), "--extracts", "4", "--out", str(base)],
                       check=True, cwd=ROOT, capture_output=True)
        steps["ingest_months_1_3"] = run(str(base), "ingest", "0", MONTH_3)
        steps["prepare_months_1_3"] = run(str(base), "prepare")
        steps["link_months_1_3_full"] = run(str(base), "full")
    if args.prepare_only:
        print(json.dumps(steps, indent=1))
        return 0
    # month 4 into copies, so the timed runs can be repeated from the same state
    runs = {}
    for mode in ("incremental", "full"):
        copy = base.parent / f"{base.name}-{mode}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(base, copy)
        steps[f"ingest_month_4_{mode}"] = run(str(copy), "ingest", MONTH_3, "9999")
        steps[f"prepare_month_4_{mode}"] = run(str(copy), "prepare")
        runs[mode] = run(str(copy), mode)
    same = subprocess.run([sys.executable, "-c", SAME, *(str(base.parent / f"{base.name}-{m}" / "identity" /
                                                             "person_index.parquet") for m in ("incremental", "full"))],
                          check=True, cwd=ROOT, capture_output=True, text=True).stdout.strip() == "1"
    result = {"persons": args.persons, "seed": args.seed, "date": dt.date.today().isoformat(), "machine": machine(),
              "steps": steps, "month_4": runs, "same_people": same}
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"linkage-incremental-{args.persons}-{result['date']}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    inc, full = runs["incremental"], runs["full"]
    lines = [f"# Incremental linkage vs full relink, {args.persons:,} people (seed {args.seed}), {result['date']}", "",
             f"Machine: {result['machine']['cpu']}, {result['machine']['cores']} cores (shared), load "
             f"{result['machine']['load_average']}. Month 4 linked after months 1-3 were linked in full "
             f"({steps.get('link_months_1_3_full', {}).get('wall_s', 'earlier')} s).", "",
             "| month 4 | wall s | CPU s | peak GiB | pairs scored by Splink | pairs used |", "|---|---:|---:|---:|---:|---:|",
             *[f"| {m} | {r['wall_s']} | {r['cpu_s']} | {r['peak_rss_gib']} | {r['pairs_scored_now']:,} | {r['pairs']:,} |"
               for m, r in runs.items()], "",
             f"Incremental: {inc['reason']}; pairs carried {inc.get('pairs_carried', 0):,}. "
             f"Same people both ways: {same}. Full relink: {full['reason']}.", "",
             "Seconds per step (in-process): " + "; ".join(f"{m}: {r['seconds']}" for m, r in runs.items()), ""]
    stem.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
