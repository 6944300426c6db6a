"""Incremental linkage gives the index a full relink gives, on the same data.

A 2,500-person ICS with four monthly extracts: months 1-3 linked in full (one link after month 3 lands), then month 4
linked incrementally in one copy and relinked in full in another. Person ids drawn fresh in
month 4 are random in each copy, so they are compared by the records they hold; every id
that existed after month 3 must be the same.
"""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest

from dagster_project.lib.zones import Zones
from dagster_project.linkage import incremental, pipeline
from tests.conftest import ingest_all

KEY = ["source", "table", "practice_code", "record_id"]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def three_months(tmp_path_factory) -> Zones:
    from dagster_project.synthetic import GeneratorConfig, generate

    zones = Zones.at(tmp_path_factory.mktemp("incremental") / "data")
    generate(GeneratorConfig(persons=2500, seed=16, extracts=4, out=zones.data_dir))
    ingest_all(zones, up_to="2026-10-01")
    pipeline.prepare(zones)
    first = pipeline.build_person_index(zones)
    assert first.mode == "full" and "no stored pairs" in first.mode_reason
    return zones


def _copy(zones: Zones, to) -> Zones:
    copy = Zones.at(to / "data")
    shutil.copytree(zones.data_dir, copy.data_dir)
    return copy


def _canonical(index: pl.DataFrame, changes: pl.DataFrame, before: set[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fresh ids (not issued before this run) renamed after the smallest record they hold."""
    label = (index.filter(~pl.col("person_id").is_in(list(before)))
             .group_by("person_id")
             .agg(pl.concat_str([pl.col(k).fill_null("") for k in KEY], separator="|").min().alias("label")))
    rename = dict(zip(label["person_id"].to_list(), ("new:" + label["label"]).to_list(), strict=True))

    def fix(col: str) -> pl.Expr:
        return pl.col(col).replace(rename)

    index = index.with_columns(fix("person_id")).select(*KEY, "person_id").sort(KEY, nulls_last=False)
    changes = (changes.drop("changed_at").with_columns(fix("person_id"), fix("other_person_id"))
               .sort("event", "person_id", "other_person_id", nulls_last=False))
    return index, changes


def test_incremental_month_gives_the_full_relink_index(three_months: Zones, tmp_path):
    before = set(pl.read_parquet(three_months.identity / pipeline.PERSON_INDEX)["person_id"].to_list())
    history = pl.read_parquet(three_months.identity / pipeline.CHANGES)
    before |= set(history["person_id"].to_list()) | set(history["other_person_id"].drop_nulls().to_list())
    inc, full = _copy(three_months, tmp_path / "inc"), _copy(three_months, tmp_path / "full")
    results = {}
    for name, zones in (("inc", inc), ("full", full)):
        ingest_all(zones)  # month 4 arrives
        pipeline.prepare(zones)
        results[name] = pipeline.build_person_index(zones, full_relink=(name == "full"))
    a, b = results["inc"], results["full"]
    assert a.mode == "incremental", a.mode_reason
    assert b.mode == "full" and "full_relink" in b.mode_reason
    # month 4 brings new profiles and drops some (patients who left): both paths exercised
    assert a.facts["profiles_new"] > 50 and a.facts["profiles_gone"] > 0, a.facts
    assert a.facts["pairs_carried"] > 0
    assert a.pairs_scored_now < 0.5 * b.pairs_scored_now, (a.pairs_scored_now, b.pairs_scored_now)

    # the same pairs above the score floor, the same scores (carried ones re-based)
    pa = pl.read_parquet(inc.identity / pipeline.PAIRS).sort("unique_id_l", "unique_id_r")
    pb = pl.read_parquet(full.identity / pipeline.PAIRS).sort("unique_id_l", "unique_id_r")
    assert pa.select("unique_id_l", "unique_id_r").equals(pb.select("unique_id_l", "unique_id_r"))
    assert (pa["match_weight"] - pb["match_weight"]).abs().max() < 1e-9

    # the same people, the same ids, the same merge/split log
    ia, ca = _canonical(a.person_index, a.changes, before)
    ib, cb = _canonical(b.person_index, b.changes, before)
    assert ia.height == ib.height
    assert ia.equals(ib)
    assert ca.equals(cb)
    assert ca.height > 0  # month 4 creates people at least
    pa_, pb_ = (z.sort(KEY, nulls_last=False)["match_probability"] for z in (a.person_index, b.person_index))
    assert ((pa_ - pb_).abs().max() or 0.0) < 1e-12
    assert pa_.null_count() == pb_.null_count()

    # the same clerical review queue
    qa = pl.read_parquet(inc.identity / pipeline.REVIEW_QUEUE)
    qb = pl.read_parquet(full.identity / pipeline.REVIEW_QUEUE)
    assert qa.select("unique_id_l", "unique_id_r").equals(qb.select("unique_id_l", "unique_id_r"))

    # a further run on unchanged data scores nothing and changes nobody
    again = pipeline.build_person_index(inc)
    assert again.mode == "incremental" and again.pairs_scored_now == 0
    assert again.person_index.select(*KEY, "person_id").equals(a.person_index.select(*KEY, "person_id"))
    assert again.changes.height == 0


def test_a_changed_fingerprint_relinks_in_full(three_months: Zones, tmp_path):
    zones = _copy(three_months, tmp_path)
    assert pipeline.build_person_index(zones).mode == "incremental"
    # another threshold: the stored pairs were clustered for the old one
    other = pipeline.build_person_index(zones, threshold=0.96)
    assert other.mode == "full" and "match_threshold" in other.mode_reason
    # a newly trained model (a different file, as train_model writes): full relink
    shipped = pipeline.model_path(zones)
    doc = json.loads(shipped.read_text())
    doc["_phm_training"] = {**doc.get("_phm_training", {}), "trained_at": "2099-01-01T00:00:00Z"}
    trained = zones.identity / "models" / "person_model-20990101T000000Z.json"
    trained.parent.mkdir(parents=True, exist_ok=True)
    trained.write_text(json.dumps(doc))
    retrained = pipeline.build_person_index(zones, threshold=0.96)
    assert retrained.mode == "full" and "model_sha256" in retrained.mode_reason
    assert pipeline.build_person_index(zones, threshold=0.96).mode == "incremental"
    # stored pairs lost or torn: full relink, never a wrong index
    state = incremental.state_dir(zones.identity)
    for pairs in state.glob("run-*/pairs.parquet"):
        pl.read_parquet(pairs).head(10).write_parquet(pairs)
    torn = pipeline.build_person_index(zones, threshold=0.96)
    assert torn.mode == "full" and "incomplete" in torn.mode_reason


def test_the_asset_runs_incrementally_and_full_relink_is_run_config(three_months: Zones, tmp_path):
    import dagster as dg

    from dagster_project.linkage.assets import IDENTITY_ASSETS, REFRESH_SELECTION
    from dagster_project.linkage.resources import LinkageBackendResource, PseudonymisationKey
    from dagster_project.resources import PlatformResource

    zones = _copy(three_months, tmp_path)
    resources = {"platform": PlatformResource(data_dir=str(zones.data_dir)),
                 "pseudonymisation": PseudonymisationKey(key="test-key-not-a-secret-16+"),
                 "linkage": LinkageBackendResource()}

    def run(config: dict | None) -> dict:
        result = dg.materialize(IDENTITY_ASSETS, selection=REFRESH_SELECTION, resources=resources, run_config=config)
        assert result.success
        return result.asset_materializations_for_node("identity__person_index")[0].metadata

    meta = run(None)
    assert meta["linkage_mode"].value == "incremental" and meta["pairs_scored_this_run"].value == 0
    meta = run({"ops": {"identity__person_index": {"config": {"full_relink": True}}}})
    assert meta["linkage_mode"].value == "full" and "full_relink" in meta["linkage_mode_reason"].value
    assert meta["pairs_scored_this_run"].value >= meta["pairs_scored"].value > 0
