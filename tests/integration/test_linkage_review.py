"""Clerical review: grey-zone pairs queued with evidence; decisions become constraints, audited."""

from __future__ import annotations

import shutil

import polars as pl
import pytest

from dagster_project.lib.zones import Zones
from dagster_project.linkage import pipeline, review
from dagster_project.linkage.model import TrainedModel
from dagster_project.linkage.scoring import MATCH_THRESHOLD


@pytest.fixture(scope="module")
def zones(small_ics: Zones, tmp_path_factory) -> Zones:
    z = Zones.at(tmp_path_factory.mktemp("review") / "data")
    shutil.copytree(small_ics.raw, z.raw)
    pipeline.prepare(z)
    pipeline.build_person_index(z)
    return z


def _person_of(z: Zones) -> pl.DataFrame:
    """unique_id -> person_id (every record of a profile has the same person)."""
    rp = pl.read_parquet(z.identity / pipeline.RECORD_PROFILES)
    index = pl.read_parquet(z.identity / pipeline.PERSON_INDEX)
    return rp.join(index, on=["source", "table", "practice_code", "record_id"], nulls_equal=True).group_by(
        "unique_id").agg(pl.col("person_id").first())


def _same_person(z: Zones, left: str, right: str) -> bool:
    people = _person_of(z)
    pid = dict(zip(people["unique_id"], people["person_id"]))
    return pid[left] == pid[right]


def test_queue_holds_grey_zone_pairs_with_evidence(zones):
    queue = pl.read_parquet(zones.identity / pipeline.REVIEW_QUEUE)
    zone = review.ReviewZone.from_env()
    assert queue.height > 0
    in_zone = queue.filter(~pl.col("held_apart"))  # bridges held apart are queued whatever their probability
    assert in_zone["match_probability"].min() >= zone.low and in_zone["match_probability"].max() < zone.high
    assert queue["pair_id"].is_unique().all()
    model = TrainedModel.load(pipeline.model_path(zones))
    comparisons = [c["output_column_name"] for c in model.settings["comparisons"]]
    assert {"nhs_number", "date_of_birth", "postcode", "sex"} <= set(comparisons)
    for comparison in comparisons:
        assert queue[f"{comparison}_level"].null_count() == 0
        assert queue[f"{comparison}_weight"].null_count() == 0
    # both sides' identity fields, for the reviewer (the queue stays in the identity zone)
    assert {"dob_string", "dob_string_r", "postcode", "postcode_r"} <= set(queue.columns)
    assert zones.identity in (zones.identity / pipeline.REVIEW_QUEUE).parents


def test_decisions_become_must_and_cannot_links_and_are_audited(zones):
    pairs = pl.read_parquet(zones.identity / pipeline.PAIRS).with_columns(
        review.pair_id(pl.col("unique_id_l"), pl.col("unique_id_r")).alias("pair_id"))
    linked = pairs.filter(pl.col("match_probability") >= MATCH_THRESHOLD).sort("match_probability").row(0, named=True)
    people = _person_of(zones)
    unlinked = (pairs.filter(pl.col("match_probability") < MATCH_THRESHOLD)
                .join(people, left_on="unique_id_l", right_on="unique_id")
                .join(people, left_on="unique_id_r", right_on="unique_id", suffix="_r")
                .filter(pl.col("person_id") != pl.col("person_id_r"))  # not joined through others
                .sort("match_probability", descending=True).row(0, named=True))
    assert _same_person(zones, linked["unique_id_l"], linked["unique_id_r"])
    assert not _same_person(zones, unlinked["unique_id_l"], unlinked["unique_id_r"])

    decisions = zones.identity / review.DECISIONS_DIR
    decisions.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({
        "pair_id": [linked["pair_id"], unlinked["pair_id"], "0000000000000000"],
        "decision": ["different", "Same", "same"],
        "reviewer": ["reviewer.a", "reviewer.b", "reviewer.a"],
        "reason": ["different given names, twins", "same person, new surname", "pair from an old run"],
    }).write_csv(decisions / "2026-11-29.csv")
    result = pipeline.build_person_index(zones)

    assert result.decisions_applied == 3
    assert not _same_person(zones, linked["unique_id_l"], linked["unique_id_r"])
    assert _same_person(zones, unlinked["unique_id_l"], unlinked["unique_id_r"])
    audit = pl.read_parquet(zones.identity / pipeline.REVIEW_AUDIT)
    effects = dict(zip(audit["pair_id"], audit["effect"]))
    assert effects[unlinked["pair_id"]].startswith("must-link")
    assert effects[linked["pair_id"]].startswith("cannot-link")
    assert effects["0000000000000000"].startswith("stale")
    assert set(audit["reviewer"]) == {"reviewer.a", "reviewer.b"} and audit["applied_at"].null_count() == 0


def test_a_bad_decision_file_names_file_line_and_field(tmp_path):
    (tmp_path / "d.csv").write_text("pair_id,decision,reviewer,reason\nabc,same,r,x\nsecretvalue,maybe,r,x\n")
    with pytest.raises(review.DecisionFileError) as err:
        review.read_decisions(tmp_path)
    assert "d.csv line 3" in str(err.value) and "'decision'" in str(err.value)
    assert "secretvalue" not in str(err.value)
    (tmp_path / "d.csv").write_text("pair_id,decision,reason\nabc,same,x\n")
    with pytest.raises(review.DecisionFileError, match="reviewer"):
        review.read_decisions(tmp_path)


def test_queue_is_capped_with_bridges_held_apart_first(zones):
    from dagster_project.linkage import scoring

    profiles = pl.read_parquet(zones.identity / pipeline.PROFILES)
    model = TrainedModel.load(pipeline.model_path(zones))
    full = scoring.score_and_cluster(profiles, model)
    cap = 3
    capped = scoring.score_and_cluster(profiles, model, zone=review.ReviewZone(0.8, 0.995, cap))
    assert full.review_queue.height > cap
    assert capped.review_queue.height == cap
    held = full.held_apart.height
    assert capped.review_queue["held_apart"].sum() == min(held, cap)
    # the rest are the grey pairs nearest the threshold
    rest = capped.review_queue.filter(~pl.col("held_apart"))
    if rest.height:
        nearest = full.review_queue.filter(~pl.col("held_apart")).with_columns(
            (pl.col("match_probability") - MATCH_THRESHOLD).abs().alias("d")).sort("d", "unique_id_l", "unique_id_r")
        assert set(rest["pair_id"]) == set(nearest.head(rest.height)["pair_id"])
