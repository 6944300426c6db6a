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
    linker = linker_for(profile_table, model.settings, backend)
    recalibrate_prior(linker)
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


def recalibrate_prior(linker) -> None:
    """Re-estimate the prior (the chance two random records match) on the data being scored.

    The prior scales with 1/population: a model trained on 20,000 people applied to 1.1
    million would overrate every match ~50-fold. Estimating it from exact NHS-number and
    name+date-of-birth agreement is cheap and changes no m or u parameter, so refreshes
    still only score; training stays on demand.
    """
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(
        [block_on("nhs_number"), block_on("dob_string", "family_name", "given_name")], recall=0.8
    )


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
