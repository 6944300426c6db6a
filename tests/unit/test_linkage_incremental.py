"""Incremental linkage's decisions on hand-made profiles: what is new, changed or gone, what
is rescored, what is carried, and when it must link in full instead."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from dagster_project.lib.nhs_number import generate_999
from dagster_project.linkage import incremental, prior, scoring, stable_ids
from dagster_project.linkage.backends import Backend
from dagster_project.linkage.model import MODEL_DIR, TrainedModel, model_file
from dagster_project.linkage.records import clean, profiles

GIVEN = ["OLIVIA", "JACK", "AMELIA", "HARRY", "ISLA", "OLIVER", "AVA", "GEORGE", "MIA", "NOAH"]
FAMILY = ["SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "JOHNSON", "DAVIES", "WRIGHT", "GREEN"]


def _people(n: int, seed: int, start: int = 0) -> pl.DataFrame:
    """Two records a person (GP and hospital), the hospital one with its given name lower-cased
    or mistyped now and then, so pairs score at different weights."""
    rng = np.random.default_rng(seed)
    nhs = list(generate_999(rng, n))
    rows = []
    for i in range(n):
        given, family = GIVEN[rng.integers(10)], FAMILY[rng.integers(10)]
        dob = dt.date(1930, 1, 1) + dt.timedelta(days=int(rng.integers(30000)))
        postcode = f"NR{rng.integers(1, 9)} {rng.integers(1, 9)}A{'BDEF'[rng.integers(4)]}"
        for source, name in (("gp", given), ("acute", given if rng.random() < 0.7 else given[:-1] + "X")):
            rows.append({"source": source, "table": "patients" if source == "gp" else "apc",
                         "practice_code": "D82001" if source == "gp" else None, "record_id": f"R{start + i}{source}",
                         "nhs_number": nhs[i] if source == "gp" or rng.random() < 0.5 else None,
                         "given_name": name, "family_name": family, "date_of_birth": dob,
                         "sex": "F" if i % 2 else "M", "postcode": postcode})
    return pl.DataFrame(rows)


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    return TrainedModel.load(MODEL_DIR / model_file())


@pytest.fixture(scope="module")
def tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Month 3's profiles and month 4's (month 3's plus 40 new people)."""
    old = _people(400, seed=1)
    new = pl.concat([old, _people(40, seed=2, start=10_000)])
    return profiles(clean(old))[0], profiles(clean(new))[0]


def _full_state(identity, table, model, fp):
    settings = prior.with_prior(model.settings, table, prior.rule_recall(model.metadata))
    scored = scoring.score(table, model, min_weight=incremental.STORE_WEIGHT)
    incremental.save(identity, fp, table, scored.pairs, model, settings, incremental.STORE_WEIGHT)
    return scored.pairs


def _fp(model) -> dict:
    return incremental.fingerprint(MODEL_DIR / model_file(), model, 0.95, Backend())


def test_profile_hash_ignores_record_counts_not_identity(tables):
    _, table = tables
    base = incremental.profile_hashes(table)
    counted = incremental.profile_hashes(table.with_columns(pl.col("record_count") + 5, pl.lit("gp").alias("sources")))
    assert base.equals(counted)
    moved = incremental.profile_hashes(table.with_columns(pl.lit("NR9 9ZZ").alias("postcode")))
    assert (moved["profile_hash"] != base["profile_hash"]).all()


def test_new_profiles_are_scored_against_everyone_and_old_pairs_carried(tables, model, tmp_path):
    old, new = tables
    _full_state(tmp_path, old, model, _fp(model))
    settings = prior.with_prior(model.settings, new, prior.rule_recall(model.metadata))
    plan = incremental.plan(tmp_path, new, model, _fp(model), settings)
    assert plan.mode == "incremental", plan.reason
    added = set(new["unique_id"].to_list()) - set(old["unique_id"].to_list())
    assert set(plan.touching.to_list()) == added and plan.facts["profiles_gone"] == 0
    scored = scoring.score(new, model, min_weight=incremental.STORE_WEIGHT, touching=plan.touching)
    assert scored.pairs.height > 0
    assert scored.pairs.select((pl.col("unique_id_l").is_in(list(added)) | pl.col("unique_id_r").is_in(list(added))).all()).item()
    # the union is what a full run on month 4 scores, with the same weights
    union = incremental.combine(plan, scored.pairs).filter(pl.col("match_weight") >= scoring.SCORE_FLOOR_WEIGHT)
    full = scoring.score(new, model).pairs.sort("unique_id_l", "unique_id_r")
    assert union.select("unique_id_l", "unique_id_r").equals(full.select("unique_id_l", "unique_id_r"))
    assert (union["match_weight"] - full["match_weight"]).abs().max() < 1e-9
    assert (union["match_probability"] - full["match_probability"]).abs().max() < 1e-12


def test_a_changed_profile_is_rescored_and_a_gone_one_dropped(tables, model, tmp_path):
    old, _ = tables
    stored = _full_state(tmp_path, old, model, _fp(model))
    linked = stored.filter(pl.col("match_weight") > 0)
    changed_id, gone_id = linked["unique_id_l"][0], linked["unique_id_r"][1]
    now = (old.filter(pl.col("unique_id") != gone_id)
           .with_columns(pl.when(pl.col("unique_id") == changed_id).then(pl.lit("NR9 9ZZ")).otherwise(pl.col("postcode"))
                         .alias("postcode")))
    settings = prior.with_prior(model.settings, now, prior.rule_recall(model.metadata))
    plan = incremental.plan(tmp_path, now, model, _fp(model), settings)
    assert plan.mode == "incremental", plan.reason
    assert plan.touching.to_list() == [changed_id]
    assert (plan.facts["profiles_changed"], plan.facts["profiles_gone"]) == (1, 1)
    ends = set(plan.carried["unique_id_l"].to_list()) | set(plan.carried["unique_id_r"].to_list())
    assert changed_id not in ends and gone_id not in ends


def test_full_relink_when_asked_when_the_fingerprint_differs_or_the_prior_jumps(tables, model, tmp_path):
    old, new = tables
    fp = _fp(model)
    settings = prior.with_prior(model.settings, new, prior.rule_recall(model.metadata))
    assert "no stored pairs" in incremental.plan(tmp_path, new, model, fp, settings).reason
    _full_state(tmp_path, old, model, fp)
    assert incremental.plan(tmp_path, new, model, fp, settings).mode == "incremental"
    assert incremental.plan(tmp_path, new, model, fp, settings, full_relink=True).mode == "full"
    other = incremental.plan(tmp_path, new, model, {**fp, "blocking_rules": ["l.x = r.x"]}, settings)
    assert other.mode == "full" and "blocking_rules" in other.reason
    # a prior 4 bits higher than the stored pairs' (beyond the 2-bit margin): pairs the last
    # run did not keep could now score above the floor
    state_file = incremental.state_dir(tmp_path) / incremental.STATE_FILE
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**state, "prior_weight": incremental.prior_weight(settings) - 4}))
    jumped = incremental.plan(tmp_path, new, model, fp, settings)
    assert jumped.mode == "full" and "no longer reach the score floor" in jumped.reason


def test_a_term_frequency_level_it_cannot_rebase_means_full_relink(tables, model, tmp_path):
    old, new = tables
    fp = _fp(model)
    _full_state(tmp_path, old, model, fp)
    doc = json.loads(json.dumps(model.settings))
    given = next(c for c in doc["comparisons"] if c["output_column_name"] == "given_name")
    given["comparison_levels"][1]["sql_condition"] = '"given_name_l" = "given_name_r" AND "sex_l" = "sex_r"'
    odd = TrainedModel(doc, model.metadata)
    plan = incremental.plan(tmp_path, new, odd, fp, prior.with_prior(doc, new, prior.rule_recall(model.metadata)))
    assert plan.mode == "full" and "given_name" in plan.reason


def test_mostly_new_profiles_relink_in_full(tables, model, tmp_path):
    old, _ = tables
    fp = _fp(model)
    _full_state(tmp_path, old, model, fp)
    moved = old.with_columns(pl.lit("NR9 9ZZ").alias("postcode"))  # everyone's profile changed
    plan = incremental.plan(tmp_path, moved, model, fp, prior.with_prior(model.settings, moved, prior.rule_recall(model.metadata)))
    assert plan.mode == "full" and "a full relink is cheaper" in plan.reason


def _canonical_ids(assigned: pl.DataFrame, events: pl.DataFrame, before: set[str]):
    key = pl.concat_str([pl.col(k).fill_null("") for k in stable_ids.KEY], separator="|")
    label = (assigned.filter(~pl.col("person_id").is_in(list(before))).group_by("person_id")
             .agg(key.min().alias("label")))
    rename = dict(zip(label["person_id"].to_list(), ("new:" + label["label"]).to_list(), strict=True))
    return (assigned.with_columns(pl.col("person_id").replace(rename)).sort(stable_ids.KEY),
            events.with_columns(pl.col("person_id").replace(rename), pl.col("other_person_id").replace(rename))
            .sort("event", "person_id", "other_person_id", nulls_last=False))


@pytest.mark.parametrize("seed", range(6))
def test_settling_unchanged_people_first_gives_the_ids_and_log_of_the_full_rules(seed):
    """Most people keep exactly their records: stable ids settle them first and work out
    claims only for the rest. Same ids, same events as the rules over everyone, on random
    months with merges, splits, new and gone records."""
    rng = np.random.default_rng(seed)
    n = 400
    person = rng.integers(0, 250, n)
    records = pl.DataFrame({"source": "gp", "table": "patients", "practice_code": None,
                            "record_id": [f"r{i}" for i in range(n)]}, schema_overrides={"practice_code": pl.Utf8})
    first, history = stable_ids.assign_stable_ids(records.with_columns(pl.Series("cluster_id", person)), None)
    cluster = person.copy()
    moved = rng.random(n) < 0.08  # records moving to another person (merges and splits)
    cluster[moved] = rng.integers(0, 250, moved.sum())
    split = rng.random(n) < 0.03  # records leaving into a person of their own
    cluster[split] = 1000 + np.arange(split.sum())
    keep = rng.random(n) > 0.05  # gone records
    extra = 40  # new records, some to existing clusters, some new people
    now = pl.concat([
        records.with_columns(pl.Series("cluster_id", cluster)).filter(pl.Series(keep)),
        pl.DataFrame({"source": "acute", "table": "apc", "practice_code": None,
                      "record_id": [f"n{i}" for i in range(extra)],
                      "cluster_id": rng.integers(0, 300, extra)}, schema_overrides={"practice_code": pl.Utf8}),
    ])
    fast = stable_ids.assign_stable_ids(now, first, history)
    full = stable_ids._assign(now, first, history)
    before = set(first["person_id"].to_list())
    a, b = _canonical_ids(*fast, before), _canonical_ids(*full, before)
    assert a[0].equals(b[0])
    assert a[1].equals(b[1])
    assert fast[1]["event"].is_in(["merged", "split"]).any()  # the scenario has merges or splits
