"""Benchmark: the Spark linkage backend beside DuckDB on one synthetic ICS.

    python benchmarks/bench_linkage_spark.py --persons 20000
    python benchmarks/bench_linkage_spark.py --persons 1100000 --prepare-only --data-dir DIR
    python benchmarks/bench_linkage_spark.py --persons 1100000 --data-dir DIR --spark-master 'local[2]' --driver-memory 8g

Generates one ICS (or reuses a prepared one with --data-dir), gates and loads its
person-level tables into the raw zone and prepares the identity profiles once. Then, per
backend, in a child process: score + cluster + stable ids (`pipeline.build_person_index`,
what the `person_index` asset runs) with its wall and CPU time and the peak memory of the
whole process tree (the Spark JVM included: sampled every 0.2 s), each backend with the
model trained on it (person_model.json / person_model.spark.json). Then precision/recall of
each against the truth and the pairwise agreement of the two clusterings.
Writes benchmarks/results/linkage-spark-<persons>-<date>.{md,json}.
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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# only the person-level tables feed linkage: ingesting activity and events would cost
# minutes at 1.1M people and change nothing measured here
PREPARE = """
import json, sys, time
from dagster_project.lib.zones import Zones
from dagster_project.linkage import pipeline
from dagster_project.linkage.records import person_level_specs
from dagster_project.sources.ingest import ingest_partition
from dagster_project.sources.landing import discover_extracts
zones = Zones.at(sys.argv[1])
t = time.monotonic()
for spec in person_level_specs():
    for d in discover_extracts(zones.landing, spec.source).dates:
        assert ingest_partition(zones, spec, d).published, (spec.name, d)
ingest_s = time.monotonic() - t
t = time.monotonic()
out = {k: v for k, v in pipeline.prepare(zones).items() if k != "by_source"}
print(json.dumps({"ingest_person_level_s": round(ingest_s, 1), "prepare_s": round(time.monotonic() - t, 1), **out}))
"""

# score + cluster + stable ids on one backend; the process tree (this process and, on Spark,
# its JVM) is sampled in a thread for resident memory; CPU is the tree's user+system time
# over the timed call (the Spark session is started before it: its start-up is reported apart)
INDEX = """
import json, os, sys, threading, time
import psutil
from dagster_project.lib.zones import Zones
from dagster_project.linkage import pipeline
from dagster_project.linkage.backends import Backend, spark_session
zones = Zones.at(sys.argv[1]); name = sys.argv[2]; master = sys.argv[3]; conf = json.loads(sys.argv[4])
me = psutil.Process()
peak = {"tree": 0, "jvm": 0}
stop = threading.Event()

def tree():
    procs = [me]
    try:
        procs += me.children(recursive=True)
    except psutil.Error:
        pass
    return procs

def sample():
    while not stop.is_set():
        total = jvm = 0
        for p in tree():
            try:
                rss = p.memory_info().rss
            except psutil.Error:
                continue
            total += rss
            if p.pid != me.pid:
                jvm += rss
        peak["tree"] = max(peak["tree"], total); peak["jvm"] = max(peak["jvm"], jvm)
        stop.wait(0.2)

def cpu():
    seconds = {}
    for p in tree():
        try:
            c = p.cpu_times(); seconds[p.pid] = c.user + c.system
        except psutil.Error:
            pass
    return seconds

threading.Thread(target=sample, daemon=True).start()
if name == "spark":  # each table Splink materialises, with its time, to stderr (a step profile)
    from splink.internals.spark.database_api import SparkAPI
    materialise = SparkAPI._cleanup_for_execute_sql
    def traced(self, table, templated_name, physical_name):
        t0 = time.monotonic(); out = materialise(self, table, templated_name, physical_name)
        print(f"STEP {templated_name} {time.monotonic() - t0:.2f}", file=sys.stderr, flush=True)
        return out
    SparkAPI._cleanup_for_execute_sql = traced
backend = Backend(name, master, conf)
out = {}
if name == "spark":
    t = time.monotonic()
    spark = spark_session(master, conf)
    out["spark_session_start_s"] = round(time.monotonic() - t, 1)
    out["spark_version"] = spark.version
    out["spark_conf"] = {k: spark.conf.get(k) for k in ("spark.master", "spark.driver.memory",
                         "spark.sql.shuffle.partitions", "spark.default.parallelism")}
cpu0 = cpu(); t = time.monotonic()
r = pipeline.build_person_index(zones, backend=backend)
wall = time.monotonic() - t; cpu1 = cpu()
stop.set()
out.update({"wall_s": round(wall, 1),
            "cpu_s": round(sum(v - cpu0.get(pid, 0.0) for pid, v in cpu1.items()), 1),
            "peak_tree_rss_gib": round(peak["tree"] / 2**30, 2),
            "peak_jvm_rss_gib": round(peak["jvm"] / 2**30, 2),
            "pairs": r.pairs, "people": r.person_index["person_id"].n_unique(),
            "review_pairs": r.review_pairs, "held_apart": r.held_apart, "model": r.model_path.name})
print(json.dumps(out))
"""


def run(code: str, *args: str, timeout: float | None = None, log: Path | None = None,
        env: dict[str, str] | None = None) -> dict:
    """A child process; its stderr kept in `log` (the Spark step profile). On timeout the
    child (and its JVM) is killed and the result says so."""
    with tempfile.TemporaryFile("w+") as out, (open(log, "w+") if log else tempfile.TemporaryFile("w+")) as err:
        child = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdout=out, stderr=err, text=True,
                                 start_new_session=True, env={**os.environ, **(env or {})})
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, 9)
            child.wait()
            return {"not_finished_after_s": timeout}
        out.seek(0)
        if child.returncode != 0:
            err.seek(0)
            tail = err.read()[-4000:]
            raise SystemExit(f"child failed ({child.returncode}):\n{tail}")
        return json.loads(out.read().strip().splitlines()[-1])


def step_profile(log: Path) -> dict:
    """Seconds per Splink table name (summed over linkers: scoring, review evidence, sample)."""
    steps: dict[str, float] = {}
    for line in log.read_text().splitlines():
        if line.startswith("STEP "):
            _, name, seconds = line.split()
            steps[name] = round(steps.get(name, 0.0) + float(seconds), 2)
    return dict(sorted(steps.items(), key=lambda kv: -kv[1]))


def backend_zone(data_dir: Path, name: str) -> Path:
    """A data directory per backend sharing the prepared identity inputs (hard links) and
    the truth, so each backend writes its own person index from the same profiles."""
    from dagster_project.linkage import pipeline

    zone = data_dir / f"backend-{name}"
    if zone.exists():
        shutil.rmtree(zone)
    (zone / "identity").mkdir(parents=True)
    for f in (pipeline.RECORDS, pipeline.PROFILES, pipeline.RECORD_PROFILES):
        os.link(data_dir / "identity" / f, zone / "identity" / f)
    (zone / "truth").symlink_to(data_dir / "truth")
    return zone


def compare(duck, spark) -> dict:
    """Pairwise agreement of two clusterings of the same records, with Spark read as a
    prediction of DuckDB (precision/recall), and the records whose person differs (whose set
    of records-of-the-same-person is not identical under the two)."""
    import polars as pl

    from dagster_project.linkage.evaluation import KEY, agreement

    result = agreement(duck, spark)
    both, d, s = result["pairs_both"], result["pairs_a"], result["pairs_b"]
    joined = duck.select(*KEY, pl.col("person_id").alias("_a")).join(
        spark.select(*KEY, pl.col("person_id").alias("_b")), on=KEY, nulls_equal=True)
    differs = joined.with_columns(pl.len().over("_a").alias("na"), pl.len().over("_b").alias("nb"),
                                  pl.len().over("_a", "_b").alias("nab")) \
        .filter((pl.col("nab") != pl.col("na")) | (pl.col("nab") != pl.col("nb")))
    return {"pairs_duckdb": d, "pairs_spark": s, "pairs_both": both, "pairs_either": d + s - both,
            "agreement_both_over_either": result["agreement"],
            "spark_precision_vs_duckdb": round(both / s, 6) if s else 1.0,
            "spark_recall_vs_duckdb": round(both / d, 6) if d else 1.0,
            "records": joined.height, "records_whose_person_differs": differs.height,
            "people_duckdb": duck["person_id"].n_unique(), "people_spark": spark["person_id"].n_unique()}


def accuracy(zone: Path) -> dict:
    import polars as pl

    from dagster_project.linkage import evaluation, pipeline

    truth = pl.read_parquet(zone / "truth" / "person_records.parquet")
    index = pl.read_parquet(zone / "identity" / pipeline.PERSON_INDEX)
    cleaned = pl.read_parquet(zone / "identity" / pipeline.RECORDS, columns=[*evaluation.KEY, "nhs_number"])
    m = evaluation.pairwise_metrics(index, truth)
    m["recall_without_valid_nhs_number"] = evaluation.recall_for(
        index, truth, cleaned.filter(pl.col("nhs_number").is_null()).select(evaluation.KEY))
    return m


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--messiness", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data-dir", type=Path, help="prepared ICS to reuse (or where to prepare one)")
    parser.add_argument("--prepare-only", action="store_true", help="generate, ingest and prepare, then stop")
    parser.add_argument("--backends", nargs="+", default=["duckdb", "spark"], choices=["duckdb", "spark"])
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--driver-memory", default="8g", help="Spark driver heap (local mode: the whole JVM)")
    parser.add_argument("--shuffle-partitions", type=int, default=None,
                        help="spark.sql.shuffle.partitions (default: the backend's)")
    parser.add_argument("--keep", action="store_true", help="keep a generated ICS")
    parser.add_argument("--spark-timeout", type=float, default=None,
                        help="stop the Spark run after this many seconds and report how far it got")
    parser.add_argument("--note", default="", help="how a reused --data-dir was made (written into the results)")
    args = parser.parse_args()

    generated = args.data_dir is None or not (args.data_dir / "identity" / "profiles.parquet").exists()
    data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="bench-linkage-spark-"))).resolve()
    prepared = None
    if generated:
        t = time.monotonic()
        subprocess.run([sys.executable, "-m", "dagster_project.synthetic", "--persons", str(args.persons),
                        "--seed", str(args.seed), "--messiness", str(args.messiness), "--out", str(data_dir)],
                       check=True, cwd=ROOT, capture_output=True)
        prepared = {"generate_s": round(time.monotonic() - t, 1), **run(PREPARE, str(data_dir))}
        print(json.dumps(prepared), flush=True)
        # only identity and truth are read from here on: free the disk
        shutil.rmtree(data_dir / "landing", ignore_errors=True)
        (data_dir / "prepared.json").write_text(json.dumps(prepared))
    elif (data_dir / "prepared.json").exists():
        prepared = json.loads((data_dir / "prepared.json").read_text())
    if args.prepare_only:
        return 0

    conf = {"spark.driver.memory": args.driver_memory}
    if args.shuffle_partitions:
        conf["spark.sql.shuffle.partitions"] = str(args.shuffle_partitions)
        conf["spark.default.parallelism"] = str(args.shuffle_partitions)
    steps, metrics, profiles = {}, {}, {}
    for name in args.backends:
        zone = backend_zone(data_dir, name)
        log = data_dir / f"backend-{name}.log"
        # Spark's checkpoints beside the zone, removed here: a run killed on timeout never
        # reaches the exit handler that removes its temporary checkpoint directory
        checkpoints = data_dir / f"backend-{name}-checkpoints"
        try:
            steps[name] = run(INDEX, str(zone), name, args.spark_master, json.dumps(conf),
                              timeout=args.spark_timeout if name == "spark" else None, log=log,
                              env={"PHM_SPARK_CHECKPOINT_DIR": str(checkpoints)})
        finally:
            shutil.rmtree(checkpoints, ignore_errors=True)
        profiles[name] = step_profile(log)
        print(name, json.dumps(steps[name]), flush=True)
        if "not_finished_after_s" not in steps[name]:
            metrics[name] = accuracy(zone)
    agreement = None
    if len(metrics) == 2:
        import polars as pl

        from dagster_project.linkage import pipeline

        duck, spark = (pl.read_parquet(data_dir / f"backend-{n}" / "identity" / pipeline.PERSON_INDEX)
                       for n in ("duckdb", "spark"))
        agreement = compare(duck, spark)

    today = dt.date.today().isoformat()
    lines = [f"# Linkage on Spark beside DuckDB: {args.persons:,} people, {today}", "",
             f"Machine: {machine()}", "",
             (f"Seed {args.seed}, messiness {args.messiness}; " if generated else "") + f"Spark master `{args.spark_master}`, driver memory "
             f"{args.driver_memory}. Same prepared profiles for both; each backend scores with the model "
             "trained on it. Times are score + cluster + stable ids (`pipeline.build_person_index`); CPU and "
             "peak memory are over the whole process tree (Python and, on Spark, the JVM).", ""]
    if prepared:
        lines += [f"Prepared once: {prepared}", ""]
    if args.note:
        lines += [args.note, ""]
    lines += ["| backend | wall s | CPU s | peak RSS GiB (tree) | of which JVM | session start s | pairs | people | "
              "precision | recall | recall w/o valid NHS no. |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in args.backends:
        s = steps[name]
        if name not in metrics:
            lines.append(f"| {name} | not finished after {s['not_finished_after_s']:.0f} s (killed) |"
                         + " |" * 9)
            continue
        m = metrics[name]
        lines.append(f"| {name} | {s['wall_s']} | {s['cpu_s']} | {s['peak_tree_rss_gib']} | {s['peak_jvm_rss_gib']} | "
                     f"{s.get('spark_session_start_s', '')} | {s['pairs']:,} | {s['people']:,} | {m['precision']} | "
                     f"{m['recall']} | {m['recall_without_valid_nhs_number']} |")
    if profiles.get("spark"):
        top = list(profiles["spark"].items())[:8]
        lines += ["", "Spark time by Splink table materialised (summed over the scoring, review-evidence and "
                  "waterfall-sample linkers; the rest is Spark planning, fetches and the polars steps): "
                  + ", ".join(f"`{k}` {v} s" for k, v in top)
                  + f"; all tables {round(sum(profiles['spark'].values()), 1)} s."]
    if agreement:
        a = agreement
        lines += ["", "Agreement of the two clusterings (a pair = two records given the same person):", "",
                  "| pairs same-person in DuckDB | in Spark | in both | in either | both / either | "
                  "Spark precision vs DuckDB | Spark recall vs DuckDB | records whose person differs |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
                  f"| {a['pairs_duckdb']:,} | {a['pairs_spark']:,} | {a['pairs_both']:,} | {a['pairs_either']:,} | "
                  f"{a['agreement_both_over_either']} | {a['spark_precision_vs_duckdb']} | "
                  f"{a['spark_recall_vs_duckdb']} | {a['records_whose_person_differs']:,} of {a['records']:,} |"]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"linkage-spark-{args.persons}-{today}"
    stem.with_suffix(".md").write_text(report + "\n")
    stem.with_suffix(".json").write_text(json.dumps(
        {"persons": args.persons, "seed": args.seed, "messiness": args.messiness, "spark_master": args.spark_master,
         "spark_conf": conf, "prepared": prepared, "note": args.note, "steps": steps, "spark_step_profile": profiles.get("spark"), "accuracy": metrics, "agreement": agreement,
         "machine": machine()}, indent=2, default=str))
    if args.data_dir is None and not args.keep:
        shutil.rmtree(data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
