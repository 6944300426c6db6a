"""Benchmark: linkage accuracy (Splink vs NHS-number-only) and speed.

    python benchmarks/bench_linkage.py --persons 20000 --messiness 1 2
    python benchmarks/bench_linkage.py --persons 1100000 --messiness 1 --no-train
    python benchmarks/bench_linkage.py --persons 20000 --messiness 1 2 --no-train --seed 2029 --peers
    python benchmarks/bench_linkage.py --persons 1100000 --messiness 1 --no-train --data-dir DIR --prepare-only
    python benchmarks/bench_linkage.py --persons 1100000 --messiness 1 --no-train --data-dir DIR --repeats 3

For each messiness level: generate a synthetic ICS, gate and load it into the raw zone,
then time each linkage step in a child process (prepare, optionally train, score and
cluster with stable ids, pseudonymise) with its wall time and peak memory, and measure
pairwise precision/recall against the truth beside the NHS-number-only baseline.
Writes benchmarks/results/linkage-<persons>-<date>[-seed<seed>][-<suffix>].{md,json}.

`--data-dir DIR` generates, ingests and prepares the ICS there once and keeps it; a later
run with the same DIR reuses it (so a large ICS is made once, e.g. under one heavy slot
with `--prepare-only`, and the timed steps run later with the machine to themselves).
`--repeats N` times the score + cluster + stable ids step N times, each a first build
(no previous person index), and reports every run and the median. CPU seconds are user +
system time of the step's process, all threads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

STEP = """
import json, sys, time, resource
from dagster_project.lib.zones import Zones
from dagster_project.linkage import pipeline
zones = Zones.at(sys.argv[1]); step = sys.argv[2]
t = time.monotonic()
if step == "prepare":
    out = {k: v for k, v in pipeline.prepare(zones).items() if k != "by_source"}
elif step == "train":
    model, path = pipeline.train_model(zones); out = {"model": str(path)}
elif step == "index":
    r = pipeline.build_person_index(zones, full_relink=True); out = {"pairs": r.pairs, "people": r.person_index["person_id"].n_unique(), "review_pairs": r.review_pairs, "held_apart": r.held_apart}
elif step == "pseudonymise":
    out = pipeline.pseudonymise_index(zones, b"benchmark-key-not-a-secret"); out.update(pipeline.apply_opt_outs(zones))
elif step == "evaluate":
    out = pipeline.evaluate(zones, with_linkable=True)
elif step == "peers":
    import polars as pl
    sys.path.insert(0, "benchmarks")
    import linkage_peers
    from dagster_project.linkage import evaluation
    profiles = pl.read_parquet(zones.identity / pipeline.PROFILES)
    record_map = pl.read_parquet(zones.identity / pipeline.RECORD_PROFILES)
    truth = pl.read_parquet(zones.truth / "person_records.parquet")
    no_nhs = pl.read_parquet(zones.identity / pipeline.RECORDS).filter(pl.col("nhs_number").is_null()).select(evaluation.KEY)
    out = {}
    for peer in ("splink_default", "recordlinkage"):
        t0 = time.monotonic()
        assigned = getattr(linkage_peers, peer)(profiles, record_map)
        for name, frame in (assigned if isinstance(assigned, dict) else {peer: assigned}).items():
            m = evaluation.pairwise_metrics(frame, truth)
            m["recall_without_valid_nhs_number"] = evaluation.recall_for(frame, truth, no_nhs)
            m["wall_s"] = round(time.monotonic() - t0, 1)
            out[name] = m
out["wall_s"] = round(time.monotonic() - t, 1)
usage = resource.getrusage(resource.RUSAGE_SELF)
out["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 1)
out["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
print(json.dumps(out))
"""

INGEST = """
import sys
from dagster_project.lib.zones import Zones
from dagster_project.sources.ingest import ingest_partition
from dagster_project.sources.landing import discover_extracts
from dagster_project.sources.registry import load_registry
zones = Zones.at(sys.argv[1])
for spec in load_registry().values():
    for d in discover_extracts(zones.landing, spec.source).dates:
        assert ingest_partition(zones, spec, d).published, (spec.name, d)
"""


def run(code: str, *args: str) -> dict | None:
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, cwd=ROOT,
                         capture_output=True, text=True)
    last = out.stdout.strip().splitlines()
    return json.loads(last[-1]) if last else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--messiness", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--no-train", action="store_true", help="score with the repository's model")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--peers", action="store_true",
                        help="also link with Splink's default settings and recordlinkage (benchmarks/linkage_peers.py)")
    parser.add_argument("--keep", action="store_true", help="keep each synthetic ICS (its path is in the results)")
    parser.add_argument("--data-dir", type=Path,
                        help="make the ICS here once and keep it; reuse it if already prepared (one messiness level)")
    parser.add_argument("--prepare-only", action="store_true", help="with --data-dir: generate, ingest, prepare, stop")
    parser.add_argument("--repeats", type=int, default=1, help="time score + cluster + stable ids this many times")
    parser.add_argument("--suffix", default="", help="appended to the results file name")
    args = parser.parse_args()
    if args.data_dir and len(args.messiness) != 1:
        parser.error("--data-dir holds one ICS: give one --messiness")
    results = []
    for messiness in args.messiness:
        data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-linkage-"))
        keep = args.keep or args.data_dir is not None
        prepared = (data_dir / "identity" / "profiles.parquet").exists()
        steps = {}
        if not prepared:
            subprocess.run([sys.executable, "-m", "dagster_project.synthetic", "--persons", str(args.persons),
                            "--seed", str(args.seed), "--messiness", str(messiness), "--out", str(data_dir)],
                           check=True, cwd=ROOT, capture_output=True)
            try:
                run(INGEST, str(data_dir))
            except subprocess.CalledProcessError as exc:  # a source gate refusing an extract: a result, reported
                results.append({"messiness": messiness, "error": (exc.stderr or "").strip().splitlines()[-1:]})
                if not keep:
                    shutil.rmtree(data_dir)
                continue
            steps["prepare"] = run(STEP, str(data_dir), "prepare")
        if args.prepare_only:
            print(json.dumps({"data_dir": str(data_dir), **steps}))
            return 0
        if not args.no_train:
            steps["train"] = run(STEP, str(data_dir), "train")
        runs = []
        for _ in range(max(args.repeats, 1)):
            for name in ("person_index.parquet", "person_index_changes.parquet"):  # each run a first build
                (data_dir / "identity" / name).unlink(missing_ok=True)  # and a full relink (index step)
            runs.append(run(STEP, str(data_dir), "index"))
        steps["score_cluster_stable_ids"] = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
        if len(runs) > 1:
            steps["score_cluster_stable_ids"] = {**steps["score_cluster_stable_ids"],
                                                 "runs_wall_s": [r["wall_s"] for r in runs],
                                                 "runs_cpu_s": [r["cpu_s"] for r in runs]}
        steps["pseudonymise"] = run(STEP, str(data_dir), "pseudonymise")
        accuracy = run(STEP, str(data_dir), "evaluate")
        if args.peers:
            accuracy.update(run(STEP, str(data_dir), "peers"))
        results.append({"messiness": messiness, "steps": steps, "accuracy": accuracy,
                        **({"data_dir": str(data_dir)} if keep else {})})
        if not keep:
            shutil.rmtree(data_dir)
    today = dt.date.today().isoformat()
    lines = [f"# Linkage benchmark: {args.persons:,} people, {today}", "", f"Machine: {machine()}", "",
             "| messiness | method | precision | recall | F1 | recall w/o valid NHS no. | people found / true |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    failed = [r for r in results if "error" in r]
    results = [r for r in results if "error" not in r]
    for r in results:
        for name in ("splink", "splink_default", "recordlinkage_ecm", "recordlinkage_rule", "nhs_number_only"):
            if name not in r["accuracy"]:
                continue
            m = r["accuracy"][name]
            lines.append(f"| {r['messiness']} | {name} | {m['precision']} | {m['recall']} | {m['f1']} | "
                         f"{m['recall_without_valid_nhs_number']} | {m['people_predicted']:,} / {m['people_true']:,} |")
    lines += ["", "Recall over pairs of records that each share an identifier (valid NHS number, full name, date of birth "
              "or postcode) with another record of the same person, and over pairs touching a record that shares none:", "",
              "| messiness | method | recall, linkable | recall, nothing in common | records with nothing in common |",
              "| ---: | --- | ---: | ---: | ---: |"]
    for r in results:
        for name in ("splink", "nhs_number_only"):
            m = r["accuracy"][name]
            lines.append(f"| {r['messiness']} | {name} | {m.get('recall_linkable')} | {m.get('recall_nothing_in_common')} | "
                         f"{m.get('records_with_nothing_in_common')} |")
    lines += ["", "| messiness | step | wall s | CPU s | peak RSS GiB | facts |", "| ---: | --- | ---: | ---: | ---: | --- |"]
    for r in results:
        for step, facts in r["steps"].items():
            extra = {k: v for k, v in facts.items() if k not in ("wall_s", "cpu_s", "peak_rss_gib")}
            lines.append(f"| {r['messiness']} | {step} | {facts['wall_s']} | {facts.get('cpu_s')} | "
                         f"{facts['peak_rss_gib']} | {extra} |")
    if any(len(r["steps"]["score_cluster_stable_ids"].get("runs_wall_s", [])) > 1 for r in results):
        lines.append("\nscore_cluster_stable_ids: the median run (each run a first build); every run in "
                     "runs_wall_s / runs_cpu_s.")
    lines += [f"\nMessiness {r['messiness']}: not measured, ingest refused an extract: {r['error']}" for r in failed]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / (f"linkage-{args.persons}-{today}{f'-seed{args.seed}' if args.seed != 11 else ''}"
                      f"{f'-{args.suffix}' if args.suffix else ''}")
    stem.with_suffix(".md").write_text(report + "\n")
    stem.with_suffix(".json").write_text(json.dumps({"persons": args.persons, "results": results, "failed": failed,
                                                    "machine": machine()}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
