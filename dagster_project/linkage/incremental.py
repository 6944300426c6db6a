"""Incremental linkage: score only the identity profiles that are new since the last run.

A monthly refresh adds a few percent of new identity profiles; the rest, and the pairs
between them, are what the last run already scored. So every run keeps its scored pairs
(identity zone, `linkage_state/`), with the fingerprint of what produced them, and the next
run with the same fingerprint scores with Splink only the candidate pairs with at least one
new or changed profile (scoring.score(touching=...): the same blocking rules, the whole
population in the linker, so those pairs score exactly as in a full run), drops the kept
pairs touching a changed or gone profile, and clusters the union exactly as a full run does
(bridge split, reviewer decisions, review queue, stable ids: pipeline.build_person_index).

What a kept pair's score depends on besides its two profiles, and how it is carried:
- the prior (re-estimated on every population, prior.with_prior): Splink 5 adds it as a
  match weight, log2 of its odds, so a kept pair moves by the difference of the two;
- term frequencies (exact-match levels of names and address lines weigh a rare value more,
  log2 u - log2 tf of the value over the whole population): a kept pair agreeing exactly
  on such a column moves by log2 tf_old - log2 tf_new of its value.
Both are added to the kept weights (equal to a full run's to ~1e-12 bits: floating-point
sums in another order). A pair the last run scored below the score floor is not kept, yet
could rise above it; so runs keep pairs down to MARGIN_BITS below the floor and track the
weight above which the kept pairs are complete (`complete_above`); when a prior or term
frequency shift would lift that above the score floor, the run links in full.

Full relink (every pair scored with Splink): no stored state, a different fingerprint
(model file, prior rule recall, blocking rules, threshold, score floor, backend, Splink or
polars version, the profile preparation code), a model whose term-frequency levels this
module cannot re-base, or `full_relink` asked for (Dagster run config of the person index
asset). The reason is logged and recorded in the asset's metadata.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import secrets
import shutil
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import polars as pl

from dagster_project.lib.files import write_parquet_atomic
from dagster_project.linkage import prior, records, scoring
from dagster_project.linkage.backends import Backend
from dagster_project.linkage.model import TrainedModel

log = logging.getLogger(__name__)

STATE_DIR = "linkage_state"
STATE_FILE = "state.json"
PAIRS_FILE = "pairs.parquet"  # unique_id_l, unique_id_r, match_weight (at that run's prior)
PROFILES_FILE = "profiles.parquet"  # unique_id, profile_hash
TF_FILE = "term_frequencies.parquet"  # column, value, tf
# Kept pairs reach this far below the score floor (2 bits: the prior odds may grow 4-fold,
# or a name's share fall 4-fold, before a run must link in full; a month moves them by a
# few hundredths of a bit). Costs the pairs scored between probability 0.2 and 0.5.
MARGIN_BITS = 2.0
STORE_WEIGHT = scoring.SCORE_FLOOR_WEIGHT - MARGIN_BITS
# profile columns that are not identity (counts of records and sources change every month
# without changing how a profile compares)
NOT_COMPARED = ("record_count", "sources")
FORMAT = 1
# Above this share of new or changed profiles scoring them against everyone costs about
# what scoring everyone does (a first load after a backfill, a new optional field).
MOSTLY_NEW = 0.5


class FullRelink(Exception):
    """The stored pairs cannot be carried over: link in full (message says why)."""


@dataclass
class Plan:
    mode: str  # "full" | "incremental"
    reason: str
    touching: pl.Series | None = None  # unique ids to score (None: everyone)
    carried: pl.DataFrame | None = None  # kept pairs re-based to this population
    complete_above: float = STORE_WEIGHT
    facts: dict = field(default_factory=dict)
    hashes: pl.DataFrame | None = None  # profile_hashes of this run's profiles (saved for the next)


def fingerprint(model_file: Path, model: TrainedModel, threshold: float, backend: Backend) -> dict:
    """What produced a set of scored pairs: if any of it differs, the pairs are not reused."""
    code = hashlib.sha256()
    for module in (records, prior):  # the profile preparation and the prior's estimator
        code.update(Path(module.__file__).read_bytes())
    return {
        "format": FORMAT,
        "model_sha256": hashlib.sha256(model_file.read_bytes()).hexdigest(),
        "prior_rule_recall": prior.rule_recall(model.metadata),
        "blocking_rules": [r["blocking_rule"] for r in model.settings.get("blocking_rules_to_generate_predictions", [])],
        "match_threshold": threshold,
        "score_floor": scoring.SCORE_FLOOR,
        "margin_bits": MARGIN_BITS,
        "backend": backend.name,
        "splink": version("splink"),
        "polars": version("polars"),  # profile ids and hashes are polars hashes
        "profile_code_sha256": code.hexdigest(),
    }


def profile_hashes(profile_table: pl.DataFrame) -> pl.DataFrame:
    """unique_id and a hash of everything a comparison or blocking rule can read."""
    cols = sorted(c for c in profile_table.columns if c not in NOT_COMPARED and c != "unique_id")
    return profile_table.select("unique_id", pl.struct(cols).hash(seed=0).alias("profile_hash"))


def tf_levels(settings: dict) -> list[tuple[str, float, float]]:
    """(column, tf weight, minimum u) of each term-frequency level, checked to be the plain
    exact match right after the null level, so it applies to a pair exactly when both
    profiles hold the same value (the only case re-based here)."""
    out = []
    for comparison in settings["comparisons"]:
        levels = comparison["comparison_levels"]
        for i, level in enumerate(levels):
            col = level.get("tf_adjustment_column")
            if not col or level.get("tf_adjustment_weight", 1.0) == 0:
                continue
            exact = f'"{col}_l" = "{col}_r"'
            if not (i == 1 and levels[0].get("is_null_level") and level["sql_condition"] == exact):
                raise FullRelink(f"the model's term-frequency level on {col} is not a plain exact match after "
                                 "the null level: kept pairs cannot be re-based")
            out.append((col, float(level.get("tf_adjustment_weight", 1.0)), float(level.get("tf_minimum_u_value", 0.0))))
    return out


def term_frequencies(profile_table: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """column, value, tf: each value's share of the non-null values (Splink's tf table)."""
    frames = []
    for col in columns:
        counts = profile_table.drop_nulls(col).group_by(col).len()
        frames.append(counts.select(pl.lit(col).alias("column"), pl.col(col).cast(pl.Utf8).alias("value"),
                                    (pl.col("len").cast(pl.Float64) / counts["len"].sum()).alias("tf")))
    return pl.concat(frames) if frames else pl.DataFrame(schema={"column": pl.Utf8, "value": pl.Utf8, "tf": pl.Float64})


def prior_weight(settings: dict) -> float:
    p = settings["probability_two_random_records_match"]
    return math.log2(p / (1 - p))


def _probability(weight: pl.Expr) -> pl.Expr:
    # as Splink computes it (stable on both sides of 0)
    return pl.when(weight >= 0).then(1.0 / (1.0 + (2.0 ** (-weight)))).otherwise((2.0 ** weight) / (1.0 + 2.0 ** weight))


def state_dir(identity: Path) -> Path:
    return identity / STATE_DIR


def read_state(identity: Path) -> dict | None:
    path = state_dir(identity) / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else None


def plan(identity: Path, profile_table: pl.DataFrame, model: TrainedModel, fp: dict,
         scoring_settings: dict, full_relink: bool = False) -> Plan:
    """Decide full or incremental, and for incremental what to score and what to carry."""
    if full_relink:
        return Plan("full", "full relink asked for (run config full_relink: true)")
    state = read_state(identity)
    if state is None:
        return Plan("full", "no stored pairs from an earlier run")
    changed = sorted(k for k in fp if state["fingerprint"].get(k) != fp[k])
    if changed:
        return Plan("full", f"what produced the stored pairs changed: {', '.join(changed)}")
    try:
        return _incremental(state_dir(identity) / state["run"], state, profile_table, model, scoring_settings)
    except FullRelink as why:
        return Plan("full", str(why))


def _incremental(folder: Path, state: dict, profile_table: pl.DataFrame, model: TrainedModel,
                 scoring_settings: dict) -> Plan:
    levels = tf_levels(model.settings)
    try:
        old_profiles = pl.read_parquet(folder / PROFILES_FILE)
        stored = pl.read_parquet(folder / PAIRS_FILE)
        old_tf = pl.read_parquet(folder / TF_FILE)
    except (FileNotFoundError, OSError) as e:
        raise FullRelink(f"stored pairs unreadable ({type(e).__name__})") from None
    if stored.height != state["pairs"] or old_profiles.height != state["profiles"]:
        raise FullRelink("stored pairs incomplete (row counts differ from the state file)")
    current = profile_hashes(profile_table)
    both = current.join(old_profiles, on="unique_id", how="full", suffix="_old", coalesce=True)
    new = both.filter(pl.col("profile_hash_old").is_null())["unique_id"]
    gone = both.filter(pl.col("profile_hash").is_null())["unique_id"]
    changed = both.filter(pl.col("profile_hash").is_not_null() & pl.col("profile_hash_old").is_not_null()
                          & (pl.col("profile_hash") != pl.col("profile_hash_old")))["unique_id"]
    if new.len() + changed.len() > MOSTLY_NEW * profile_table.height:
        raise FullRelink(f"{new.len() + changed.len()} of {profile_table.height} profiles new or changed: "
                         "a full relink is cheaper")
    dropped = pl.concat([gone, changed]).implode()
    kept = stored.filter(~pl.col("unique_id_l").is_in(dropped) & ~pl.col("unique_id_r").is_in(dropped))

    # re-base the kept weights: the prior, then each exact agreement's term frequency
    shift_prior = prior_weight(scoring_settings) - state["prior_weight"]
    weight = pl.col("match_weight") + shift_prior
    new_tf = term_frequencies(profile_table, [c for c, _, _ in levels])
    gain = 0.0
    cols = [c for c, _, _ in levels]
    if cols:  # each end's values once (two joins), then a small lookup per column
        values = profile_table.select("unique_id", *cols)
        kept = (kept.join(values.rename({c: f"_l_{c}" for c in cols}), left_on="unique_id_l", right_on="unique_id", how="left")
                .join(values.rename({c: f"_r_{c}" for c in cols}), left_on="unique_id_r", right_on="unique_id", how="left"))
    for col, w, min_u in levels:
        tf = (old_tf.filter(pl.col("column") == col).select("value", pl.col("tf").alias("tf_old"))
              .join(new_tf.filter(pl.col("column") == col).select("value", pl.col("tf").alias("tf_new")),
                    on="value", how="inner")
              .with_columns((w * (pl.max_horizontal("tf_old", pl.lit(min_u)).log(2)
                                  - pl.max_horizontal("tf_new", pl.lit(min_u)).log(2))).alias(f"_d_{col}")))
        gain += max(float(tf[f"_d_{col}"].max() or 0.0), 0.0)
        kept = (kept.join(tf.select(pl.col("value").alias(f"_l_{col}"), f"_d_{col}"), on=f"_l_{col}", how="left")
                .with_columns(pl.when(pl.col(f"_l_{col}") == pl.col(f"_r_{col}")).then(pl.col(f"_d_{col}")).otherwise(0.0)
                              .fill_null(0.0).alias(f"_d_{col}")))
        weight = weight + pl.col(f"_d_{col}")
    kept = kept.select("unique_id_l", "unique_id_r", weight.alias("match_weight"))
    # kept pairs are complete above this weight now (a pair below the old bound can rise
    # by the prior's shift and the largest term-frequency gain, no more)
    complete_above = max(STORE_WEIGHT, state["complete_above"] + shift_prior + gain)
    if complete_above > scoring.SCORE_FLOOR_WEIGHT:
        raise FullRelink(f"the prior and term frequencies moved by {shift_prior + gain:.3f} bits: the kept pairs no "
                         f"longer reach the score floor (complete above {complete_above:.3f} bits)")
    touching = pl.concat([new, changed]).sort()
    kept = kept.filter(pl.col("match_weight") >= STORE_WEIGHT).with_columns(
        _probability(pl.col("match_weight")).alias("match_probability")).select(scoring.PAIR_COLUMNS)
    facts = {"profiles_new": new.len(), "profiles_changed": changed.len(), "profiles_gone": gone.len(),
             "pairs_carried": kept.height, "prior_shift_bits": shift_prior, "tf_gain_bound_bits": gain}
    return Plan("incremental", f"{new.len()} new, {changed.len()} changed, {gone.len()} gone profiles "
                f"of {profile_table.height}", touching, kept, complete_above, facts, current)


def combine(plan: Plan, scored: pl.DataFrame) -> pl.DataFrame:
    """This run's pairs: the carried ones and the newly scored ones (disjoint: a new pair
    touches a new or changed profile, a carried one does not)."""
    pairs = scored.select(scoring.PAIR_COLUMNS)
    if plan.carried is not None:
        pairs = pl.concat([plan.carried, pairs])
    return pairs.sort("unique_id_l", "unique_id_r")


def save(identity: Path, fp: dict, profile_table: pl.DataFrame, pairs: pl.DataFrame, model: TrainedModel,
         scoring_settings: dict, complete_above: float, hashes: pl.DataFrame | None = None) -> None:
    """Store this run's pairs (down to STORE_WEIGHT) for the next run; the state file is
    replaced last, so a run that dies half way leaves the previous state whole."""
    try:
        levels = tf_levels(model.settings)
    except FullRelink:
        levels = []
    base = state_dir(identity)
    run = f"run-{secrets.token_hex(6)}"
    folder = base / run
    folder.mkdir(parents=True, exist_ok=True)
    stored = pairs.filter(pl.col("match_weight") >= STORE_WEIGHT).select("unique_id_l", "unique_id_r", "match_weight")
    profiles = profile_hashes(profile_table) if hashes is None else hashes
    write_parquet_atomic(stored, folder / PAIRS_FILE)
    write_parquet_atomic(profiles, folder / PROFILES_FILE)
    write_parquet_atomic(term_frequencies(profile_table, [c for c, _, _ in levels]), folder / TF_FILE)
    state = {"run": run, "fingerprint": fp, "prior_weight": prior_weight(scoring_settings),
             "complete_above": complete_above, "pairs": stored.height, "profiles": profiles.height}
    tmp = base / f".{STATE_FILE}.{run}"
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(base / STATE_FILE)
    for old in base.glob("run-*"):
        if old.name != run:
            shutil.rmtree(old, ignore_errors=True)
