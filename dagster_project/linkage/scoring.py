"""Score pairs of identity profiles with a trained model, and cluster them into people."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dagster_project.linkage.backends import Backend
from dagster_project.linkage.model import TrainedModel, linker_for

MATCH_THRESHOLD = 0.95  # cluster edges: the pair is the same person with >= 95% probability
SCORE_FLOOR = 0.5  # pairs scored below this are not kept


@dataclass
class LinkageOutput:
    pairs: pl.DataFrame  # unique_id_l, unique_id_r, match_probability, match_weight
    clusters: pl.DataFrame  # unique_id, cluster_id


def score_and_cluster(
    profile_table: pl.DataFrame,
    model: TrainedModel,
    threshold: float = MATCH_THRESHOLD,
    charts_dir: Path | None = None,
    backend: Backend | None = None,
) -> LinkageOutput:
    """Pairwise predictions over the blocking rules, then connected components at threshold."""
    backend = backend or Backend()
    if profile_table.height < 2:  # nothing to compare: every profile is its own person
        return LinkageOutput(
            pairs=pl.DataFrame(schema={"unique_id_l": pl.Utf8, "unique_id_r": pl.Utf8,
                                       "match_probability": pl.Float64, "match_weight": pl.Float64}),
            clusters=profile_table.select("unique_id", pl.col("unique_id").alias("cluster_id")),
        )
    linker = linker_for(profile_table, with_prior(model.settings, profile_table), backend)
    predictions = linker.inference.predict(threshold_match_probability=SCORE_FLOOR)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    pairs = backend.fetch(predictions, ["unique_id_l", "unique_id_r", "match_probability", "match_weight"])
    cluster_frame = backend.fetch(clusters, ["unique_id", "cluster_id"])
    if charts_dir is not None:
        sample = pairs.sort("match_probability", "unique_id_l").head(20)
        write_charts(linker, charts_dir, _waterfall_sample(profile_table, model, sample, backend))
    return LinkageOutput(pairs=pairs, clusters=cluster_frame)


# Deterministic rules whose agreeing pairs are (almost all) true matches; the prior counts
# them and divides by their assumed recall, as Splink's own estimator does.
PRIOR_RULES = (("nhs_number",), ("dob_string", "family_name", "given_name"))
PRIOR_RECALL = 0.8


def _pairs_agreeing(profile_table: pl.DataFrame, columns: tuple[str, ...]) -> int:
    present = [c for c in columns if c in profile_table.columns]
    if len(present) < len(columns):
        return 0
    counts = profile_table.drop_nulls(present).group_by(present).len()
    return int(counts.select((pl.col("len") * (pl.col("len") - 1) // 2).sum()).item() or 0)


def estimate_prior(profile_table: pl.DataFrame, recall: float = PRIOR_RECALL) -> float:
    """The chance two random profiles are the same person, estimated so it is never 0 or 1.

    Pairs agreeing on either deterministic rule are counted exactly (inclusion-exclusion
    over the two rules) and divided by the rules' recall and by all pairs. Splink's
    estimator sets the prior to 0 when no pair agrees (every record distinct, or identical
    records collapsed into one profile) and `predict()` then fails on log(0); so one
    pseudo-pair is added to the count (add-one smoothing), and the result is capped at
    0.5: even data made wholly of duplicates is not evidence that any two random
    records match with certainty.
    """
    n = profile_table.height
    total = n * (n - 1) // 2
    if total == 0:
        return 0.5
    a, b = PRIOR_RULES
    agreeing = (_pairs_agreeing(profile_table, a) + _pairs_agreeing(profile_table, b)
                - _pairs_agreeing(profile_table, tuple(dict.fromkeys(a + b))))
    return float(min(max((agreeing + 1) / recall / total, 1.0 / (total + 1)), 0.5))


def with_prior(model_settings: dict, profile_table: pl.DataFrame) -> dict:
    """The model's settings with the prior re-estimated on the data being scored.

    The prior scales with 1/population: a model trained on 20,000 people applied to 1.1
    million would overrate every match ~50-fold. Re-estimating it is cheap and changes
    no m or u parameter, so refreshes still only score; training stays on demand.
    """
    return {**model_settings, "probability_two_random_records_match": estimate_prior(profile_table)}


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
    """Each profile's strongest link to another profile of its own cluster (null if alone)."""
    both = pl.concat([
        pairs.select(pl.col("unique_id_l").alias("unique_id"), pl.col("unique_id_r").alias("other"), "match_probability"),
        pairs.select(pl.col("unique_id_r").alias("unique_id"), pl.col("unique_id_l").alias("other"), "match_probability"),
    ])
    same = (
        both.join(clusters, on="unique_id")
        .join(clusters.rename({"unique_id": "other", "cluster_id": "other_cluster"}), on="other")
        .filter(pl.col("cluster_id") == pl.col("other_cluster"))
    )
    return same.group_by("unique_id").agg(pl.col("match_probability").max())
