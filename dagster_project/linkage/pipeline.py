"""The linkage run, as plain functions over the identity zone (no Dagster here).

prepare -> (train) -> score and cluster -> stable ids -> pseudonymise, each step reading and
writing named files under `<data_dir>/identity/`, so each can be run, tested and timed alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dagster_project.lib.files import write_parquet_atomic, write_parquet_versioned
from dagster_project.lib.zones import Zones
from dagster_project.linkage import (
    evaluation,
    incremental,
    prior,
    pseudonymise,
    records,
    review,
    scoring,
    stable_ids,
)
from dagster_project.linkage.backends import Backend
from dagster_project.linkage.model import MODEL_DIR, TrainedModel, model_file
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry

RECORDS = "person_records.parquet"
PROFILES = "profiles.parquet"
RECORD_PROFILES = "record_profiles.parquet"
PAIRS = "pairwise_predictions.parquet"
CLUSTERS = "clusters.parquet"
PERSON_INDEX = "person_index.parquet"
CHANGES = "person_index_changes.parquet"
PSEUDO_KEYS = "pseudo_keys.parquet"
OPT_OUTS = "opt_outs.parquet"
REVIEW_QUEUE = review.QUEUE
REVIEW_AUDIT = review.AUDIT

log = logging.getLogger(__name__)


def prepare(zones: Zones) -> dict:
    """Cleaned identity records of every person-level table, and their distinct profiles."""
    cleaned = records.clean(records.read_identity_records(zones.raw))
    profile_table, record_map = records.profiles(cleaned)
    write_parquet_atomic(cleaned, zones.identity / RECORDS)
    write_parquet_atomic(profile_table, zones.identity / PROFILES)
    write_parquet_atomic(record_map, zones.identity / RECORD_PROFILES)
    by_source = cleaned.group_by("source", "table").agg(
        pl.len().alias("records"),
        pl.col("nhs_number").is_null().sum().alias("without_valid_nhs_number"),
        pl.col("nhs_number_invalid").sum().alias("nhs_number_failed_mod11"),
    ).sort("source", "table")
    return {"records": cleaned.height, "profiles": profile_table.height, "by_source": by_source}


def model_path(zones: Zones, backend: Backend | None = None) -> Path:
    """The model in use for a backend: the newest trained on this platform, else the one
    shipped in the repository. Models are per backend (a DuckDB model does not load on Spark)."""
    backend = backend or Backend()
    trained = sorted((zones.identity / "models").glob(f"person_model-*{backend.model_suffix}.json"))
    if backend.name == "duckdb":
        trained = [p for p in trained if p.name.count(".") == 1]
    return trained[-1] if trained else MODEL_DIR / model_file(backend)


def train_model(zones: Zones, seed: int = 42, backend: Backend | None = None) -> tuple[TrainedModel, Path]:
    from dagster_project.linkage.model import train

    backend = backend or Backend()
    profile_table = pl.read_parquet(zones.identity / PROFILES)
    model = train(profile_table, seed=seed, backend=backend)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = zones.identity / "models" / f"person_model-{stamp}{backend.model_suffix}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = model.save(path.parent / f".tmp-{stamp}")
    os.replace(tmp, path)
    tmp.parent.rmdir()
    return model, path


def quality(person_index: pl.DataFrame, cleaned: pl.DataFrame) -> dict:
    """Linkage quality without a truth: cluster sizes, records linked per source, and how
    many records without a valid NHS number were linked to someone else's records."""
    sizes = person_index.group_by("person_id").len()
    linked = person_index.join(sizes, on="person_id").with_columns((pl.col("len") > 1).alias("linked"))
    per_source = (
        linked.join(cleaned.select(*stable_ids.KEY, "nhs_number"), on=stable_ids.KEY, nulls_equal=True)
        .group_by("source", "table")
        .agg(
            pl.len().alias("records"),
            pl.col("linked").sum().alias("linked_to_other_records"),
            pl.col("nhs_number").is_null().sum().alias("without_valid_nhs_number"),
            (pl.col("nhs_number").is_null() & pl.col("linked")).sum().alias("without_nhs_number_but_linked"),
        )
        .sort("source", "table")
    )
    distribution = (
        sizes.with_columns(
            pl.col("len").cut([1, 2, 5, 10, 50, 200], labels=["1", "2", "3-5", "6-10", "11-50", "51-200", ">200"]).alias("records_per_person")
        )
        .group_by("records_per_person").len().sort("records_per_person")
    )
    return {
        "people": sizes.height,
        "records": person_index.height,
        "largest_person_records": int(sizes["len"].max() or 0),
        "cluster_sizes": distribution,
        "per_source": per_source,
    }


@dataclass
class IndexResult:
    person_index: pl.DataFrame
    changes: pl.DataFrame
    pairs: int
    model_path: Path
    charts: Path
    review_pairs: int = 0
    decisions_applied: int = 0
    held_apart: int = 0  # bridge edges between two NHS numbers not followed (clustering.py)
    mode: str = "full"  # full | incremental (incremental.py)
    mode_reason: str = ""
    pairs_scored_now: int = 0  # pairs Splink scored in this run (all of them in a full run)
    facts: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)  # wall time per step (plan, score, cluster, ids, save)


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._t, 2)
        self._t = now


def build_person_index(
    zones: Zones, threshold: float | None = None, backend: Backend | None = None, full_relink: bool = False
) -> IndexResult:
    """Score and cluster the profiles, give every record a stable person id, log changes.

    Scores with Splink only the pairs touching profiles new or changed since the last run
    when its stored pairs can be carried over (incremental.py), else every pair; the rest
    (clustering, review queue, stable ids) is the same either way."""
    backend = backend or Backend()
    threshold = scoring.match_threshold() if threshold is None else threshold
    clock = _Clock()
    path = model_path(zones, backend)
    model = TrainedModel.load(path)
    profile_table = pl.read_parquet(zones.identity / PROFILES)
    record_map = pl.read_parquet(zones.identity / RECORD_PROFILES)
    charts = zones.reports / "linkage"
    decisions = review.read_decisions(zones.identity / review.DECISIONS_DIR)
    fp = incremental.fingerprint(path, model, threshold, backend)
    settings_now = prior.with_prior(model.settings, profile_table, prior.rule_recall(model.metadata))
    plan = incremental.plan(zones.identity, profile_table, model, fp, settings_now, full_relink)
    log.info("linkage %s: %s", plan.mode, plan.reason)
    clock.lap("read_and_plan")
    scored = scoring.score(profile_table, model, backend, min_weight=incremental.STORE_WEIGHT, touching=plan.touching,
                           scoring_settings=settings_now) if profile_table.height >= 2 else None
    scored_now = scored.pairs.height if scored is not None else 0
    if scored is not None:
        scored.pairs = incremental.combine(plan, scored.pairs)
    clock.lap("score")
    output = scoring.score_and_cluster(profile_table, model, threshold, charts_dir=charts, backend=backend,
                                       decisions=decisions, scored=scored)
    write_parquet_atomic(output.pairs, zones.identity / PAIRS)
    write_parquet_atomic(output.clusters, zones.identity / CLUSTERS)
    if output.review_queue is not None:
        write_parquet_atomic(output.review_queue, zones.identity / REVIEW_QUEUE)
    if output.review_audit is not None and output.review_audit.height:
        audit_path = zones.identity / REVIEW_AUDIT
        old_audit = pl.read_parquet(audit_path) if audit_path.exists() else None
        write_parquet_atomic(output.review_audit if old_audit is None
                             else pl.concat([old_audit, output.review_audit], how="vertical_relaxed"), audit_path)
    clock.lap("cluster_review_charts")
    best = scoring.best_link_probability(output.pairs, output.clusters)
    current = record_map.join(output.clusters, on="unique_id", how="left")
    index_path, changes_path = zones.identity / PERSON_INDEX, zones.identity / CHANGES
    previous = pl.read_parquet(index_path) if index_path.exists() else None
    history = pl.read_parquet(changes_path) if changes_path.exists() else None
    # the profile id rides along (no second join on the four-column record key: 8 s at 1.1M)
    assigned, changes = stable_ids.assign_stable_ids(current.select(*stable_ids.KEY, "cluster_id", "unique_id"),
                                                     previous, history)
    person_index = (
        assigned.join(best, on="unique_id", how="left")
        .select(*stable_ids.KEY, "person_id", "match_probability")
        .sort(stable_ids.KEY, nulls_last=False)
    )
    changes = changes.with_columns(pl.lit(dt.datetime.now(dt.UTC).replace(tzinfo=None)).alias("changed_at"))
    write_parquet_atomic(person_index, index_path)
    write_parquet_atomic(changes if history is None else pl.concat([history, changes], how="vertical_relaxed"), changes_path)
    clock.lap("stable_ids_and_writes")
    if scored is not None:  # last: the next run carries these pairs only once the index is written
        incremental.save(zones.identity, fp, profile_table, scored.pairs, model, scored.settings, plan.complete_above,
                         plan.hashes)
    clock.lap("save_state")
    return IndexResult(person_index, changes, output.pairs.height, path, charts,
                       output.review_queue.height if output.review_queue is not None else 0,
                       output.review_audit.height if output.review_audit is not None else 0,
                       output.held_apart.height if output.held_apart is not None else 0,
                       plan.mode, plan.reason, scored_now, plan.facts, clock.laps)


def pseudonymise_index(zones: Zones, key: bytes) -> dict:
    person_index = pl.read_parquet(zones.identity / PERSON_INDEX)
    keys = pseudonymise.pseudo_keys(person_index, key)
    # versioned (content-addressed, link swapped): a past warehouse build re-reads its own keys
    write_parquet_versioned(keys, zones.identity / PSEUDO_KEYS)
    return {"records": keys.height, "people": keys["pseudo_id"].n_unique()}


def apply_opt_outs(zones: Zones) -> dict:
    """People with a national data opt-out, by pseudo id, for the warehouse to exclude."""
    keys = pl.read_parquet(zones.identity / PSEUDO_KEYS)
    spec = load_registry()["opt_out__national_data_opt_out"]
    scan = raw_zone.scan_published(zones.raw, spec)
    numbers = scan.select("nhs_number").collect() if scan is not None else pl.DataFrame({"nhs_number": []}, schema={"nhs_number": pl.Utf8})
    cleaned = pl.read_parquet(zones.identity / RECORDS, columns=[*stable_ids.KEY, "nhs_number"])
    opt_outs = pseudonymise.opted_out(cleaned, keys, numbers)
    write_parquet_versioned(opt_outs, zones.identity / OPT_OUTS)
    return {"opt_out_numbers": numbers.height, "opted_out_people": opt_outs.height}


def evaluate(zones: Zones, with_linkable: bool = False) -> dict | None:
    """Accuracy against the synthetic ground truth, Splink beside the NHS-number-only baseline.

    Returns None when there is no truth (real data)."""
    truth_path = zones.truth / "person_records.parquet"
    if not truth_path.exists():
        return None
    truth = pl.read_parquet(truth_path)
    person_index = pl.read_parquet(zones.identity / PERSON_INDEX)
    cleaned = pl.read_parquet(zones.identity / RECORDS)
    baseline = evaluation.nhs_number_baseline(cleaned)
    no_nhs = cleaned.filter(pl.col("nhs_number").is_null()).select(evaluation.KEY)
    splink = evaluation.pairwise_metrics(person_index, truth)
    nhs_only = evaluation.pairwise_metrics(baseline, truth)
    splink["recall_without_valid_nhs_number"] = evaluation.recall_for(person_index, truth, no_nhs)
    nhs_only["recall_without_valid_nhs_number"] = evaluation.recall_for(baseline, truth, no_nhs)
    if with_linkable:
        linkable = evaluation.linkable_records(cleaned, truth)
        # records of people with more than one record that share nothing with the others
        multi = truth.filter(pl.len().over("true_person_id") > 1).select(evaluation.KEY)
        unlinkable = multi.join(linkable, on=evaluation.KEY, how="anti", nulls_equal=True)
        for name, assigned in (("splink", person_index), ("nhs_number_only", baseline)):
            result = splink if name == "splink" else nhs_only
            result["records_with_nothing_in_common"] = unlinkable.height
            # pairs of two linkable records; pairs touching a record that shares nothing
            result["recall_linkable"] = evaluation.recall_among(assigned, truth, linkable)
            result["recall_nothing_in_common"] = evaluation.recall_for(assigned, truth, unlinkable)
    return {"splink": splink, "nhs_number_only": nhs_only}
