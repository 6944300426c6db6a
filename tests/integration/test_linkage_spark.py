"""The Spark backend (local mode) links a small ICS as the DuckDB backend does."""

from __future__ import annotations

import shutil

import pytest

from dagster_project.lib.zones import Zones
from dagster_project.linkage import pipeline
from dagster_project.linkage.backends import Backend
from dagster_project.linkage.evaluation import agreement
from dagster_project.linkage.model import MODEL_DIR, TrainedModel, model_file


@pytest.mark.slow
def test_spark_agrees_with_duckdb_on_at_least_99_5_percent_of_links(small_ics, tmp_path):
    pytest.importorskip("pyspark", reason="pyspark is a dev dependency: `make test` installs it")
    spark_model = TrainedModel.load(MODEL_DIR / model_file(Backend("spark")))
    assert spark_model.metadata["backend"] == "spark"  # trained on Spark: DuckDB JSON does not load there

    duck = Zones.at(tmp_path / "duck")
    spark = Zones.at(tmp_path / "spark")
    for zones in (duck, spark):
        shutil.copytree(small_ics.raw, zones.raw)
        pipeline.prepare(zones)
    duck_index = pipeline.build_person_index(duck, backend=Backend("duckdb")).person_index
    spark_index = pipeline.build_person_index(spark, backend=Backend("spark", "local[2]")).person_index

    result = agreement(duck_index, spark_index)
    assert result["agreement"] >= 0.995, result
    assert spark_index.height == duck_index.height
