"""Clerical review: uncertain pairs go to people, their decisions come back as constraints.

A pair whose match probability falls in the grey zone (`ReviewZone`, configurable) is
neither clearly the same person nor clearly not: it is queued with its evidence (each
comparison's level and match weight, and both profiles' identity fields) in the identity
zone (`identity/review_queue.parquet`; identifiers never leave the zone).

A reviewer's decisions land as CSV files in `identity/review_decisions/`, one row per
pair: `pair_id,decision,reviewer,reason` with decision `same` or `different`. On the next
run they become constraints on clustering: `same` is a must-link (an edge of probability
1), `different` a cannot-link (the edge is removed; if the two profiles still meet
through other profiles, the right-hand profile is taken out of the cluster, since the
reviewer has said it does not belong with the left-hand one). Every decision applied is
written to `identity/review_audit.parquet` with who, why, when and what it did.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

QUEUE = "review_queue.parquet"
DECISIONS_DIR = "review_decisions"
AUDIT = "review_audit.parquet"
DECISIONS = ("same", "different")
DECISION_COLUMNS = ("pair_id", "decision", "reviewer", "reason")
EVIDENCE_FIELDS = ["nhs_number_recorded", "given_name", "family_name", "dob_string", "sex", "postcode",
                   "address_line", "other_identifier"]  # the optional ones where present


@dataclass(frozen=True)
class ReviewZone:
    """Pairs with low <= match probability < high are reviewed: by default the pairs
    just below the clustering threshold (MATCH_THRESHOLD) that were not linked, and those just above
    it that were. Wider zones catch more errors and cost reviewers more time."""

    low: float = 0.8
    high: float = 0.995
    max_pairs: int = 20_000

    @classmethod
    def from_env(cls) -> ReviewZone:
        """`PHM_REVIEW_LOW` / `PHM_REVIEW_HIGH` / `PHM_REVIEW_MAX_PAIRS` override the defaults."""
        zone = cls(float(os.environ.get("PHM_REVIEW_LOW", cls.low)), float(os.environ.get("PHM_REVIEW_HIGH", cls.high)),
                   int(os.environ.get("PHM_REVIEW_MAX_PAIRS", cls.max_pairs)))
        if not 0 <= zone.low < zone.high <= 1:
            raise ValueError(f"review zone must satisfy 0 <= low < high <= 1, got low={zone.low} high={zone.high}")
        return zone


class DecisionFileError(ValueError):
    """A reviewer's decision file breaks a rule (file, line and field named; no values)."""


def pair_id(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    """A pair's id: the same for (a, b) and (b, a), and across runs while both profiles exist."""
    lo = pl.min_horizontal(left, right)
    hi = pl.max_horizontal(left, right)
    return pl.concat_str([lo, hi], separator=":").map_elements(
        lambda s: hashlib.sha256(s.encode()).hexdigest()[:16], return_dtype=pl.Utf8)


def with_pair_ids(pairs: pl.DataFrame) -> pl.DataFrame:
    """The scored pairs keyed by `pair_id` (hashed once per run: apply_constraints and
    enforce_cannot_links both read it, and hashing every pair is the costly part)."""
    if "pair_id" in pairs.columns:
        return pairs
    return pairs.with_columns(pair_id(pl.col("unique_id_l"), pl.col("unique_id_r")).alias("pair_id"))


def build_queue(evidence: pl.DataFrame, profile_table: pl.DataFrame, model_settings: dict, zone: ReviewZone,
                held: pl.DataFrame | None = None) -> pl.DataFrame:
    """The grey-zone pairs with evidence: per comparison its level label and match weight
    (from Splink's gamma_ and bf_ columns), and both profiles' identity fields. Bridge
    edges clustering held apart (`held`: two people with different NHS numbers joined
    only through a record without one) are queued whatever their probability, flagged
    `held_apart`."""
    held = held if held is not None else pl.DataFrame(schema={"unique_id_l": pl.Utf8, "unique_id_r": pl.Utf8})
    held_keys = held.select("unique_id_l", "unique_id_r").with_columns(pl.lit(True).alias("held_apart"))
    grey = evidence.join(held_keys, on=["unique_id_l", "unique_id_r"], how="left").with_columns(
        pl.col("held_apart").fill_null(False)).filter(
        ((pl.col("match_probability") >= zone.low) & (pl.col("match_probability") < zone.high)) | pl.col("held_apart"))
    exprs = []
    for comparison in model_settings["comparisons"]:
        name = comparison["output_column_name"]
        if f"mw_{name}" not in grey.columns:
            continue
        # the level is the one whose weight log2(m/u) the pair scored (Splink 5 keeps
        # weights, not level indices); a missing value scores 0
        levels = [("missing on one side", 0.0)] + [
            (lv.get("label_for_charts") or lv["sql_condition"], math.log2(lv["m_probability"] / lv["u_probability"]))
            for lv in comparison["comparison_levels"]
            if not lv.get("is_null_level") and lv.get("m_probability") and lv.get("u_probability")
        ]
        mw = pl.col(f"mw_{name}")
        label = pl.lit(None, pl.Utf8)
        distance = pl.lit(float("inf"))
        for text, weight in levels:
            d = (mw - weight).abs()
            label = pl.when(d < distance).then(pl.lit(text)).otherwise(label)
            distance = pl.min_horizontal(distance, d)
        exprs.append(label.alias(f"{name}_level"))
        total = mw + (pl.col(f"mw_tf_adj_{name}") if f"mw_tf_adj_{name}" in grey.columns else pl.lit(0.0))
        exprs.append(total.round(2).alias(f"{name}_weight"))
    fields = profile_table.select("unique_id", *[c for c in EVIDENCE_FIELDS if c in profile_table.columns],
                                  "record_count", "sources")
    return (
        grey.select("unique_id_l", "unique_id_r", "match_probability", "match_weight", "held_apart", *exprs)
        .with_columns(pair_id(pl.col("unique_id_l"), pl.col("unique_id_r")).alias("pair_id"))
        .join(fields, left_on="unique_id_l", right_on="unique_id", how="left")
        .join(fields, left_on="unique_id_r", right_on="unique_id", how="left", suffix="_r")
        .sort("match_probability", "pair_id")
        .select("pair_id", pl.all().exclude("pair_id"))
    )


DECISION_SCHEMA = {"pair_id": pl.Utf8, "decision": pl.Utf8, "reviewer": pl.Utf8, "reason": pl.Utf8,
                   "file": pl.Utf8, "line": pl.Int64}


def no_decisions() -> pl.DataFrame:
    return pl.DataFrame(schema=DECISION_SCHEMA)


def read_decisions(directory: Path) -> pl.DataFrame:
    """All decision files, validated; the newest decision per pair wins (files in name order)."""
    schema = DECISION_SCHEMA
    frames = []
    for path in sorted(directory.glob("*.csv")) if directory.exists() else []:
        frame = pl.read_csv(path, infer_schema_length=0)
        missing = [c for c in DECISION_COLUMNS if c not in frame.columns]
        if missing:
            raise DecisionFileError(f"{path.name}: required column(s) {missing} missing (expected {list(DECISION_COLUMNS)})")
        frame = frame.select(DECISION_COLUMNS).with_columns(
            pl.col("decision").str.strip_chars().str.to_lowercase(),
            pl.lit(path.name).alias("file"),
            (pl.int_range(pl.len()) + 2).cast(pl.Int64).alias("line"),  # line 1 is the header
        )
        for column in ("pair_id", "decision", "reviewer"):
            bad = frame.filter(pl.col(column).is_null() | (pl.col(column).str.strip_chars() == ""))
            if bad.height:
                raise DecisionFileError(f"{path.name} line {bad['line'][0]}: field {column!r} is empty (every decision names its pair, outcome and reviewer)")
        bad = frame.filter(~pl.col("decision").is_in(DECISIONS))
        if bad.height:
            raise DecisionFileError(f"{path.name} line {bad['line'][0]}: field 'decision' must be one of {list(DECISIONS)}")
        frames.append(frame)
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames).unique("pair_id", keep="last", maintain_order=True)


def apply_constraints(pairs: pl.DataFrame, decisions: pl.DataFrame, threshold: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Edges for clustering with the reviewers' decisions applied, and the decisions that
    could not be matched to a scored pair (stale: a profile changed since the review).

    `same`: the pair's edge gets probability 1. `different`: its edge is dropped."""
    columns = [c for c in pairs.columns if c != "pair_id"]
    if decisions.height == 0:
        return pairs.select(columns), decisions.head(0)
    keyed = with_pair_ids(pairs)
    matched = keyed.join(decisions.select("pair_id", "decision"), on="pair_id", how="left")
    edges = matched.filter(pl.col("decision").is_null() | (pl.col("decision") == "same")).with_columns(
        pl.when(pl.col("decision") == "same").then(1.0).otherwise(pl.col("match_probability")).alias("match_probability"),
        pl.when(pl.col("decision") == "same").then(pl.lit(float("inf"))).otherwise(pl.col("match_weight")).alias("match_weight"),
    ).select(columns)
    stale = decisions.join(keyed.select("pair_id"), on="pair_id", how="anti")
    return edges, stale


def enforce_cannot_links(clusters: pl.DataFrame, pairs: pl.DataFrame, decisions: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A `different` pair still in one cluster (joined through other profiles): the
    right-hand profile leaves the cluster and stands alone. Returns clusters and the
    pair ids so enforced."""
    different = decisions.filter(pl.col("decision") == "different").select("pair_id")
    if different.height == 0:
        return clusters, different
    keyed = with_pair_ids(pairs).join(different, on="pair_id")
    c = clusters.select("unique_id", "cluster_id")
    together = (keyed.join(c, left_on="unique_id_l", right_on="unique_id")
                .join(c.rename({"cluster_id": "cluster_r"}), left_on="unique_id_r", right_on="unique_id")
                .filter(pl.col("cluster_id") == pl.col("cluster_r")))
    if together.height == 0:
        return clusters, together.select("pair_id")
    isolate = together["unique_id_r"].unique()
    out = clusters.with_columns(
        pl.when(pl.col("unique_id").is_in(isolate.implode())).then(pl.col("unique_id")).otherwise(pl.col("cluster_id")).alias("cluster_id"))
    return out, together.select("pair_id")


def audit_rows(decisions: pl.DataFrame, stale: pl.DataFrame, isolated: pl.DataFrame) -> pl.DataFrame:
    """One row per decision applied this run: who decided, why, from which file, and the effect."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return decisions.with_columns(
        pl.when(pl.col("pair_id").is_in(stale["pair_id"].implode())).then(pl.lit("stale: pair no longer scored, not applied"))
        .when(pl.col("pair_id").is_in(isolated["pair_id"].implode())).then(pl.lit("cannot-link: right-hand profile separated from the cluster"))
        .when(pl.col("decision") == "same").then(pl.lit("must-link: edge set to probability 1"))
        .otherwise(pl.lit("cannot-link: edge removed")).alias("effect"),
        pl.lit(now).alias("applied_at"),
    ).select("pair_id", "decision", "reviewer", "reason", "file", "line", "effect", "applied_at")
