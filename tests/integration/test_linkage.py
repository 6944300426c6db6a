"""Linkage on a small synthetic ICS: accuracy against the truth, stable ids, no identifiers out."""

from __future__ import annotations

import re

import dagster as dg
import polars as pl
import pytest

from dagster_project.lib.zones import Zones
from dagster_project.linkage import pipeline
from dagster_project.linkage.assets import IDENTITY_ASSETS, PERSON_INDEX, REFRESH_SELECTION
from dagster_project.linkage.resources import LinkageBackendResource, PseudonymisationKey
from dagster_project.resources import PlatformResource
from tests.conftest import ingest_all

KEY = b"test-key-not-a-secret-16+"
NHS = re.compile(r"^\d{10}$")
POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", re.I)
IDENTIFIER_COLUMNS = {"nhs_number", "given_name", "family_name", "date_of_birth", "postcode",
                      "phone", "email", "person_id"}


def assert_no_direct_identifiers(frame: pl.DataFrame, what: str) -> None:
    """No identifier columns, and no value shaped like an NHS number, postcode, phone or e-mail."""
    assert not IDENTIFIER_COLUMNS & set(frame.columns), f"{what}: identifier columns {IDENTIFIER_COLUMNS & set(frame.columns)}"
    for name, dtype in frame.schema.items():
        if dtype != pl.Utf8:
            continue
        values = frame[name].drop_nulls().unique().head(50_000).to_list()
        for v in values:
            assert not NHS.match(v), f"{what}.{name} holds an NHS-number-like value"
            assert not POSTCODE.match(v), f"{what}.{name} holds a postcode-like value"
            assert "@" not in v and not v.startswith("07700"), f"{what}.{name} holds contact details"


@pytest.fixture(scope="module")
def linked(small_ics: Zones) -> Zones:
    pipeline.prepare(small_ics)
    pipeline.build_person_index(small_ics)
    pipeline.pseudonymise_index(small_ics, KEY)
    pipeline.apply_opt_outs(small_ics)
    return small_ics


def test_accuracy_beats_thresholds_and_the_nhs_number_baseline(linked):
    accuracy = pipeline.evaluate(linked)
    splink, baseline = accuracy["splink"], accuracy["nhs_number_only"]
    assert splink["precision"] >= 0.995 and splink["recall"] >= 0.99, splink
    assert splink["recall_without_valid_nhs_number"] >= 0.95, splink
    assert splink["recall"] > baseline["recall"] + 0.02
    assert baseline["recall_without_valid_nhs_number"] == 0.0


def test_every_person_level_record_has_exactly_one_person(linked):
    index = pl.read_parquet(linked.identity / pipeline.PERSON_INDEX)
    truth = pl.read_parquet(linked.truth / "person_records.parquet")
    assert index.height == truth.height
    assert index.select(pl.struct("source", "table", "practice_code", "record_id").is_unique().all()).item()
    assert index.columns == ["source", "table", "practice_code", "record_id", "person_id", "match_probability"]


def test_pseudonymised_outputs_carry_no_direct_identifiers(linked):
    for name in (pipeline.PSEUDO_KEYS, pipeline.OPT_OUTS):
        frame = pl.read_parquet(linked.identity / name)
        assert frame.height
        assert_no_direct_identifiers(frame.drop("record_id", "practice_code", "source", "table", strict=False), name)


def test_opt_outs_cover_every_person_with_an_opted_out_number(linked):
    opt = pl.read_parquet(linked.identity / pipeline.OPT_OUTS)
    numbers = pl.read_parquet(next((linked.raw / "opt_out" / "national_data_opt_out").glob("*/data.parquet")))
    assert opt.height >= 0.9 * numbers.height * 0.9  # most opted-out numbers belong to someone here


def test_ids_are_stable_across_two_refreshes(tmp_path):
    from dagster_project.synthetic import GeneratorConfig, generate

    zones = Zones.at(tmp_path / "data")
    generate(GeneratorConfig(persons=2000, seed=8, out=zones.data_dir))
    ingest_all(zones, up_to="2026-10-01")
    pipeline.prepare(zones)
    first = pipeline.build_person_index(zones).person_index
    ingest_all(zones)  # the November extracts arrive
    pipeline.prepare(zones)
    second = pipeline.build_person_index(zones)
    both = first.join(second.person_index, on=["source", "table", "practice_code", "record_id"],
                      nulls_equal=True, suffix="_new")
    moved = both.filter(pl.col("person_id") != pl.col("person_id_new"))
    logged = second.changes.filter(pl.col("event").is_in(["merged", "split"]))
    # a record changes person only through a logged merge or split, and that is rare
    assert moved.height <= 0.002 * both.height
    assert set(moved["person_id"].to_list()) <= set(logged["other_person_id"].to_list())
    assert both.height > 0.9 * first.height


def test_identity_assets_materialise_with_passing_checks(small_ics, tmp_path):
    import shutil

    zones = Zones.at(tmp_path / "data")
    shutil.copytree(small_ics.data_dir, zones.data_dir)
    result = dg.materialize(
        IDENTITY_ASSETS,
        selection=REFRESH_SELECTION,
        resources={"platform": PlatformResource(data_dir=str(zones.data_dir)),
                   "pseudonymisation": PseudonymisationKey(key=KEY.decode()),
                   "linkage": LinkageBackendResource()},
    )
    assert result.success
    checks = {e.asset_check_key.name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"accuracy_against_truth": True, "cluster_sizes": True}
    meta = result.asset_materializations_for_node("identity__person_index")[0].metadata
    assert "accuracy_vs_truth" in meta and "chart_match_weights" in meta
    assert (zones.reports / "linkage" / "waterfall_sample.html").exists()
    assert PERSON_INDEX
