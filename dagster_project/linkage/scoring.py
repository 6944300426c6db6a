"""Score pairs of identity profiles with a trained model, and cluster them into people."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dagster_project.linkage import review
from dagster_project.linkage.backends import Backend
from dagster_project.linkage.clustering import connected_components, split_nhs_bridges
from dagster_project.linkage.model import TrainedModel, linker_for
from dagster_project.linkage.prior import rule_recall, with_prior
from dagster_project.linkage.review import ReviewZone

MATCH_THRESHOLD = 0.95  # cluster edges: the pair is the same person with >= 95% probability
# (0.99 gave precision 1.0 on 20,000 people but recall 0.883 at 1,100,000: the prior falls
# with the population. At 0.95 name-less, number-less hospital records whose date of birth
# is one character off another person's at the same postcode (~0.96) bridged two people
# (precision 0.9983 at messiness 2), so 0.97 was used; clustering now refuses such bridges
# between two NHS numbers (clustering.py), and on the dev ICSs (20,000 people, seeds 2029
# m1 / 2030 m2) 0.95 keeps precision 0.99994 / 0.99999 and links the same-postcode date
# typos the new blocking rule compares (recall 0.99967 / 0.99922; without a valid NHS
# number 0.99657 / 0.99678, were 0.9927 / 0.9918 at 0.97). 0.9 gained < 0.0001 recall.
# The same threshold serves FEBRL (benchmarks/bench_linkage_public.py). Pairs near the
# threshold go to clerical review.)
SCORE_FLOOR = 0.5  # pairs scored below this are not kept


def match_threshold() -> float:
    """The cluster threshold for this deployment: `PHM_MATCH_THRESHOLD` if set, else
    MATCH_THRESHOLD. Configuration, not code: a deployment measures its own (the linkage
    benchmarks and the review queue show what a threshold costs in each direction)."""
    raw = os.environ.get("PHM_MATCH_THRESHOLD")
    if raw is None or raw.strip() == "":
        return MATCH_THRESHOLD
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("PHM_MATCH_THRESHOLD must be a number between 0.5 and 1 (exclusive of 1)") from None
    if not SCORE_FLOOR <= value < 1:
        raise ValueError(f"PHM_MATCH_THRESHOLD must satisfy {SCORE_FLOOR} <= threshold < 1 (pairs below "
                         f"{SCORE_FLOOR} are not kept; 1 would link nothing)")
    return value


@dataclass
class LinkageOutput:
    pairs: pl.DataFrame  # unique_id_l, unique_id_r, match_probability, match_weight
    clusters: pl.DataFrame  # unique_id, cluster_id
    review_queue: pl.DataFrame | None = None  # grey-zone pairs with evidence (review.build_queue)
    review_audit: pl.DataFrame | None = None  # reviewer decisions applied this run
    held_apart: pl.DataFrame | None = None  # bridge edges not followed (clustering.split_nhs_bridges)


@dataclass
class Scored:
    """Splink's scored pairs (at or above `min_weight`) and the linker and settings that
    scored them (the prior re-estimated on this population; charts and evidence reuse them)."""

    pairs: pl.DataFrame  # unique_id_l < unique_id_r, match_probability, match_weight
    linker: object
    settings: dict


# The match weight of SCORE_FLOOR (Splink filters on the weight: log2 of the odds)
SCORE_FLOOR_WEIGHT = math.log2(SCORE_FLOOR / (1 - SCORE_FLOOR))
TOUCH_COLUMN = "phm_touch"


def score(profile_table: pl.DataFrame, model: TrainedModel, backend: Backend | None = None,
          min_weight: float = SCORE_FLOOR_WEIGHT, touching: pl.Series | None = None,
          scoring_settings: dict | None = None) -> Scored:
    """Pairwise predictions over the model's blocking rules with match weight >= min_weight.

    `touching` (unique ids) limits scoring to candidate pairs with at least one end in it
    (an incremental run: the new and changed profiles against everyone). The linker still
    sees the whole population, so term frequencies and the prior are those a full run
    uses, and every pair it scores scores exactly as in a full run."""
    backend = backend or Backend()
    scoring_settings = scoring_settings or with_prior(model.settings, profile_table, rule_recall(model.metadata))
    if touching is not None and touching.len() == 0:
        return Scored(pl.DataFrame(schema=PAIR_SCHEMA), linker_for(profile_table, scoring_settings, backend),
                      scoring_settings)
    table, rules = profile_table, scoring_settings
    if touching is not None:
        table = profile_table.with_columns(
            pl.col("unique_id").is_in(touching.implode()).cast(pl.Int8).alias(TOUCH_COLUMN))
        # each rule twice, once for pairs whose left profile is new and once for those whose right
        # one is (and the left not): a condition on one side the database applies before the join,
        # so each join is new x everyone. (One rule with "l new OR r new" gives the same pairs,
        # but joins everyone x everyone first: 15x slower on a 3M-row test table.)
        touch_l, touch_r = f"l.{TOUCH_COLUMN} = 1", f"r.{TOUCH_COLUMN} = 1 AND l.{TOUCH_COLUMN} = 0"
        rules = {**scoring_settings, "blocking_rules_to_generate_predictions": [
            {**rule, "blocking_rule": f"({rule['blocking_rule']}) AND {side}"}
            for rule in scoring_settings["blocking_rules_to_generate_predictions"] for side in (touch_l, touch_r)]}
    linker = linker_for(table, rules, backend)
    predictions = linker.inference.predict(threshold_match_weight=min_weight)
    return Scored(backend.fetch(predictions, PAIR_COLUMNS), linker, scoring_settings)


PAIR_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]
PAIR_SCHEMA = {"unique_id_l": pl.Utf8, "unique_id_r": pl.Utf8, "match_probability": pl.Float64,
               "match_weight": pl.Float64}


def score_and_cluster(
    profile_table: pl.DataFrame,
    model: TrainedModel,
    threshold: float | None = None,
    charts_dir: Path | None = None,
    backend: Backend | None = None,
    decisions: pl.DataFrame | None = None,
    zone: ReviewZone | None = None,
    scored: Scored | None = None,
) -> LinkageOutput:
    """Pairwise predictions over the blocking rules, then connected components at threshold
    with no bridge between two NHS numbers (clustering.split_nhs_bridges).

    `scored`: pairs scored already (incremental.py: this run's new pairs with the last
    run's carried over); only those at or above SCORE_FLOOR are used."""
    backend = backend or Backend()
    threshold = match_threshold() if threshold is None else threshold
    if profile_table.height < 2:  # nothing to compare: every profile is its own person
        return LinkageOutput(
            pairs=pl.DataFrame(schema=PAIR_SCHEMA),
            clusters=profile_table.select("unique_id", pl.col("unique_id").alias("cluster_id")),
            review_queue=None,
        )
    zone = zone or ReviewZone.from_env()
    decisions = decisions if decisions is not None else review.no_decisions()
    scored = scored or score(profile_table, model, backend)
    linker, scoring_settings = scored.linker, scored.settings
    pairs = scored.pairs.filter(pl.col("match_weight") >= SCORE_FLOOR_WEIGHT).select(PAIR_COLUMNS)
    if decisions.height == 0:
        cluster_frame = connected_components(profile_table["unique_id"], pairs, threshold)
        cluster_frame, held = split_nhs_bridges(cluster_frame, profile_table, pairs, threshold)
        audit = None
    else:
        keyed = review.with_pair_ids(pairs)
        edges, stale = review.apply_constraints(keyed, decisions, threshold)
        cluster_frame = connected_components(profile_table["unique_id"], edges, threshold)
        cluster_frame, held = split_nhs_bridges(cluster_frame, profile_table, edges, threshold)
        cluster_frame, isolated = review.enforce_cannot_links(cluster_frame, keyed, decisions)
        audit = review.audit_rows(decisions, stale, isolated)
    # bridges held apart are queued for review whatever their probability: a reviewer's
    # `same` makes the merge (a must-link is always followed)
    queue = review.build_queue(_evidence(profile_table, pairs, scoring_settings, zone, backend, threshold, held),
                               profile_table, model.settings, zone, held)
    if charts_dir is not None:
        sample = pairs.sort("match_probability", "unique_id_l").head(20)
        write_charts(linker, charts_dir, _waterfall_sample(profile_table, model, sample, backend))
    return LinkageOutput(pairs=pairs, clusters=cluster_frame, review_queue=queue, review_audit=audit, held_apart=held)


def _evidence(profile_table: pl.DataFrame, pairs: pl.DataFrame, scoring_settings: dict, zone: ReviewZone,
              backend: Backend, threshold: float = MATCH_THRESHOLD, held: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per-comparison match weights of the grey-zone pairs, re-scored on just their
    profiles (keeping Splink's intermediate columns for every pair of a full run costs a
    third more time; the grey zone is a small fraction of it). Same settings and prior, so
    the same scores."""
    grey = pairs.filter((pl.col("match_probability") >= zone.low) & (pl.col("match_probability") < zone.high))
    # the queue is for people to read: the bridges clustering held apart first (whatever their
    # probability: a decision made without a reviewer), then the pairs nearest the threshold,
    # at most zone.max_pairs in all (re-scoring a million grey pairs at 1.1M people would cost
    # minutes; 1.1M people at messiness 1 held 9,828 bridges)
    grey = grey.sort((pl.col("match_probability") - threshold).abs(), "unique_id_l", "unique_id_r")
    if held is not None and held.height:
        bridges = pairs.join(held.select("unique_id_l", "unique_id_r"), on=["unique_id_l", "unique_id_r"]) \
            .sort("unique_id_l", "unique_id_r")
        grey = pl.concat([bridges, grey]).unique(["unique_id_l", "unique_id_r"], maintain_order=True)
    grey = grey.head(zone.max_pairs)
    if grey.height == 0:
        return grey
    ids = pl.concat([grey["unique_id_l"], grey["unique_id_r"]]).unique()
    subset = profile_table.filter(pl.col("unique_id").is_in(ids.implode()))
    detailed = {**scoring_settings, "retain_intermediate_calculation_columns": True}
    sub_linker = linker_for(subset, detailed, backend)
    # term frequencies from the whole population, not the subset, so the weights match
    tf_cols = {lv["tf_adjustment_column"] for c in scoring_settings["comparisons"]
               for lv in c["comparison_levels"] if lv.get("tf_adjustment_column")}
    for col in sorted(tf_cols):
        counts = profile_table.drop_nulls(col).group_by(col).len()
        tf = counts.select(col, (pl.col("len") / counts["len"].sum()).alias(f"tf_{col}"))
        registered = backend.register(sub_linker._db_api, tf, f"tf_lookup_{col}")
        sub_linker.table_management.register_term_frequency_lookup(registered, col)
    sub = sub_linker.inference.predict(threshold_match_probability=0.0)
    weights = pl.from_arrow(sub.as_duckdbpyrelation().to_arrow_table()) if backend.name == "duckdb" \
        else pl.from_pandas(sub.as_pandas_dataframe())
    keep = [c for c in weights.columns if c.startswith("mw_")]
    return grey.join(weights.select("unique_id_l", "unique_id_r", *keep), on=["unique_id_l", "unique_id_r"], how="left")


def _waterfall_sample(profile_table, model: TrainedModel, sample_pairs: pl.DataFrame, backend: Backend, n: int = 20):
    """Re-score a small sample of linked profiles keeping the intermediate columns that
    Splink's waterfall chart needs (kept off for the full run: they cost memory)."""
    wanted = sorted(set(sample_pairs["unique_id_l"].to_list()) | set(sample_pairs["unique_id_r"].to_list()))
    sample = profile_table.filter(pl.col("unique_id").is_in(wanted))
    detailed = {**model.settings, "retain_intermediate_calculation_columns": True,
                "retain_matching_columns": True}
    sample_linker = linker_for(sample, detailed, backend)
    scored = sample_linker.inference.predict(threshold_match_probability=SCORE_FLOOR)
    return sample_linker, scored.as_record_list(limit=n)


def write_charts(linker, charts_dir: Path, waterfall) -> dict[str, Path]:
    """Splink's model charts as offline HTML; the waterfall shows a sample with values removed."""
    charts_dir.mkdir(parents=True, exist_ok=True)
    sample_linker, sample_records = waterfall
    charts = {
        "match_weights": linker.visualisations.match_weights_chart(),
        "m_u_parameters": linker.visualisations.m_u_parameters_chart(),
        "waterfall_sample": sample_linker.visualisations.waterfall_chart(
            sample_records, remove_sensitive_data=True
        ),
    }
    paths = {}
    for name, chart in charts.items():
        path = charts_dir / f"{name}.html"
        path.write_text(chart.to_html(inline=True), encoding="utf-8")
        paths[name] = path
    return paths


def best_link_probability(pairs: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """Each profile's strongest link to another profile of its own cluster (null if alone).
    Pairs are kept within a cluster first, then split into both ends (joining each pair's
    two ends once, not both ends of a doubled pair list: ~30% faster at 3M pairs)."""
    c = clusters.select("unique_id", "cluster_id").lazy()
    same = (pairs.lazy().select("unique_id_l", "unique_id_r", "match_probability")
            .join(c.rename({"unique_id": "unique_id_l", "cluster_id": "cluster_l"}), on="unique_id_l")
            .join(c.rename({"unique_id": "unique_id_r", "cluster_id": "cluster_r"}), on="unique_id_r")
            .filter(pl.col("cluster_l") == pl.col("cluster_r")))
    both = pl.concat([same.select(pl.col("unique_id_l").alias("unique_id"), "match_probability"),
                      same.select(pl.col("unique_id_r").alias("unique_id"), "match_probability")])
    return both.group_by("unique_id").agg(pl.col("match_probability").max()).collect()
