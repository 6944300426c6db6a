"""Identity cleaning: equal things compare equal; known-wrong values become missing, flagged."""

import datetime as dt

import polars as pl

from dagster_project.linkage.model import MODEL_DIR, TrainedModel, model_file
from dagster_project.linkage.prior import estimate_prior
from dagster_project.linkage.records import clean, normalise_postcode, profiles
from dagster_project.linkage.scoring import score_and_cluster


def _records(**overrides):
    base = {
        "source": ["gp"], "table": ["patients"], "practice_code": ["D82001"], "record_id": ["P1"],
        "nhs_number": ["9434765919"], "given_name": ["Mary-Anne"], "family_name": [" o'neil  smith "],
        "date_of_birth": [dt.date(1950, 3, 4)], "sex": ["f"], "postcode": ["nr12ab"],
    }
    base.update({k: [v] for k, v in overrides.items()})
    return pl.DataFrame(base).with_columns(pl.col("nhs_number").cast(pl.Utf8))


def test_names_are_upper_case_letters_and_single_spaces():
    row = clean(_records()).row(0, named=True)
    assert row["given_name"] == "MARY ANNE"  # a hyphen is a word break
    assert row["family_name"] == "ONEIL SMITH"
    assert clean(_records(family_name="O'Neil-Smith")).row(0, named=True)["family_name"] == "ONEIL SMITH"


def test_postcodes_are_normalised_foreign_ones_kept_and_placeholders_missing():
    frame = pl.DataFrame({"p": ["nr12ab", "NR1 2AB", " nr1  2ab", "PE30 1XY", "2615", "k1a 0b1", "",
                                "ZZ99 3VZ", "nfa", None]})
    assert frame.select(normalise_postcode("p")).to_series().to_list() == [
        "NR1 2AB", "NR1 2AB", "NR1 2AB", "PE30 1XY", "2615", "K1A0B1", None, None, None, None,
    ]


def test_foreign_postcodes_warn_and_have_no_uk_parts(caplog):
    recs = pl.concat([_records(record_id="P1", postcode="2615"), _records(record_id="P2")])
    with caplog.at_level("WARNING"):
        cleaned = clean(recs)
    assert cleaned["postcode"].to_list() == ["2615", "NR1 2AB"]
    assert "1 of 2 identity records carry a postcode that is not UK-shaped" in caplog.text
    assert "2615" not in caplog.text  # counts, never values
    table, _ = profiles(cleaned)
    foreign = table.filter(pl.col("postcode") == "2615").row(0, named=True)
    uk = table.filter(pl.col("postcode") == "NR1 2AB").row(0, named=True)
    assert foreign["postcode_sector"] is None and foreign["postcode_district"] is None and foreign["postcode_area"] is None
    assert (uk["postcode_sector"], uk["postcode_district"], uk["postcode_area"]) == ("NR1 2", "NR1", "NR")


def test_nhs_numbers_failing_modulus_11_are_missing_and_flagged():
    row = clean(_records(nhs_number="9434765918")).row(0, named=True)
    assert row["nhs_number"] is None and row["nhs_number_invalid"] is True
    assert row["nhs_number_recorded"] == "9434765918"  # kept for the one-slip comparison
    ok = clean(_records(nhs_number="943 476 5919")).row(0, named=True)
    assert ok["nhs_number"] == "9434765919" and ok["nhs_number_invalid"] is False


def test_sex_u_is_unknown():
    assert clean(_records(sex="U")).row(0, named=True)["sex"] is None
    assert clean(_records(sex="m")).row(0, named=True)["sex"] == "M"


def test_identical_identities_share_one_profile_and_dob_swap_is_prepared():
    recs = pl.concat([_records(record_id=f"P{i}") for i in range(3)] + [_records(record_id="P9", given_name="Anne")])
    table, record_map = profiles(clean(recs))
    assert table.height == 2 and record_map.height == 4
    row = table.filter(pl.col("given_name") == "ANNE").row(0, named=True)
    assert row["dob_string"] == "1950-03-04" and row["dob_swapped"] == "1950-04-03"


def _profiles(n: int, copies: int = 1) -> pl.DataFrame:
    """n different people, each recorded `copies` times with a different record id."""
    rows = [
        _records(record_id=f"P{i}-{c}", nhs_number=None, given_name=f"Name{chr(65 + i % 26)}{chr(65 + i // 26)}",
                 family_name=f"Fam{chr(65 + (i * 7) % 26)}", date_of_birth=dt.date(1940 + i % 50, 1 + i % 12, 1 + i % 28),
                 postcode=f"NR{1 + i % 30} {i % 9}AB")
        for i in range(n) for c in range(copies)
    ]
    return profiles(clean(pl.concat(rows)))[0]


def test_prior_is_never_zero_or_one():
    distinct = _profiles(40)
    prior = estimate_prior(distinct)
    assert 0 < prior < 1 and prior <= 1 / (0.8 * 40 * 39 / 2) + 1e-12  # one pseudo-pair, no real ones
    twins = pl.concat([distinct, distinct.with_columns(pl.col("unique_id") + "b")])
    assert 0 < estimate_prior(twins) <= 0.5  # every profile agrees with another
    assert estimate_prior(distinct.head(2).with_columns(pl.lit("X").alias("given_name"))) <= 0.5
    assert estimate_prior(distinct.head(1)) == 0.5


def test_scoring_survives_all_distinct_and_all_duplicated_records():
    model = TrainedModel.load(MODEL_DIR / model_file())
    distinct = _profiles(30)
    out = score_and_cluster(distinct, model)  # no deterministic agreement at all: Splink's prior would be 0
    assert out.clusters.height == 30 and out.clusters["cluster_id"].n_unique() == 30
    duplicated = _profiles(30, copies=3)  # identical records collapse into one profile each
    assert duplicated.height == 30
    assert score_and_cluster(duplicated, model).clusters["cluster_id"].n_unique() == 30
    single = score_and_cluster(distinct.head(1), model)
    assert single.clusters.height == 1 and single.pairs.height == 0


def test_prior_calibration_settles_on_the_models_own_expected_matches_and_stays_bounded():
    """The rules' recall is measured, not assumed: if the model expects four times the
    pairs the rules find, the recall is a quarter; it never leaves its bounds."""
    from dagster_project.linkage.prior import RECALL_BOUNDS, calibrate_rule_recall, rule_pairs

    table = pl.DataFrame({
        "nhs_number": ["9990000018", "9990000018", None, None, None, None],
        "dob_string": ["2000-01-01"] * 2 + ["1990-05-05", "1990-05-05", "1980-01-01", "1970-01-01"],
        "family_name": ["A", "A", "B", "B", "C", "D"],
        "given_name": ["X", "X", "Y", "Y", "Z", "W"],
    })
    agreeing = rule_pairs(table) + 1
    assert agreeing == 3
    recall, steps = calibrate_rule_recall(table, lambda prior: 4 * agreeing)
    assert recall == 0.25 and steps[-1]["recall"] == 0.25
    # a model expecting nothing, or everything, is held to the bounds: prior never 0 or 1
    assert calibrate_rule_recall(table, lambda prior: 0.0)[0] == RECALL_BOUNDS[1]
    assert calibrate_rule_recall(table, lambda prior: 1e9)[0] == RECALL_BOUNDS[0]
    assert 0 < estimate_prior(table, RECALL_BOUNDS[0]) <= 0.5
    # a self-referential model (expected matches proportional to the prior) stops
    recall, steps = calibrate_rule_recall(table, lambda prior: prior * 15 * 0.9 + 1)
    assert RECALL_BOUNDS[0] <= recall <= RECALL_BOUNDS[1] and len(steps) <= 10


def _people_with_duplicates(n: int = 300, optional: bool = True) -> pl.DataFrame:
    """n people, each recorded twice (the second, for a quarter of them, with a typo in
    the surname and, for a third, a different postcode), with or without the optional
    identity fields."""
    import random

    rng = random.Random(7)
    given = ["ANN", "BEN", "CARA", "DAN", "EVE", "FRED", "GUS", "HAL", "IVY", "JO"]
    family = ["SMITH", "JONES", "BROWN", "TAYLOR", "WILSON", "DAVIES", "EVANS", "THOMAS", "ROBERTS", "WALKER"]
    rows = []
    for i in range(n):
        dob = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000))
        g, f, pc = rng.choice(given), rng.choice(family), f"NR{rng.randrange(1, 30)} {rng.randrange(1, 9)}AB"
        addr, other = f"{rng.randrange(1, 200)} Church Road", f"LOC{i:05d}"
        for k in range(2):
            rows.append({"source": "sc", "table": "people", "practice_code": None, "record_id": f"{i}-{k}",
                         "nhs_number": None, "given_name": g, "family_name": f if k == 0 or i % 4 else f[:-1] + "X",
                         "date_of_birth": dob, "sex": "F" if i % 2 else "M",
                         "postcode": pc if k == 0 or i % 3 else f"IP{rng.randrange(1, 30)} 1AA",
                         "address_line": (addr if k == 0 else addr.replace("Road", "Rd")) if optional else None,
                         "other_identifier": other if optional else None, "true": i})
    frame = pl.DataFrame(rows).with_columns(pl.col("nhs_number", "practice_code", "address_line", "other_identifier").cast(pl.Utf8))
    return frame if optional else frame.drop("address_line", "other_identifier")


def test_optional_identity_fields_are_compared_only_when_the_data_carries_them():
    from dagster_project.linkage.model import optional_fields_present, train

    with_extra, without = _people_with_duplicates(), _people_with_duplicates(optional=False)
    cleaned = clean(with_extra.drop("true"))
    assert cleaned["address_line"][0].endswith("CHURCH RD")  # street words one way
    assert cleaned["address_line"][0] == cleaned["address_line"][1]
    # a record without the optional fields keeps the profile id it had before they existed
    bare = profiles(clean(without.drop("true")))[0]
    assert bare["unique_id"].to_list() == profiles(clean(without.drop("true").with_columns(
        pl.lit(None, pl.Utf8).alias("address_line"))))[0]["unique_id"].to_list()
    assert set(bare.columns) >= {"address_line", "other_identifier"}  # null columns, scored as missing
    assert optional_fields_present(bare) == []

    table, record_map = profiles(cleaned)
    assert optional_fields_present(table) == ["address_line", "other_identifier"]
    model = train(table, max_pairs=2e4)
    names = [c["output_column_name"] for c in model.settings["comparisons"]]
    assert {"address_line", "other_identifier"} <= set(names)
    assert model.metadata["optional_fields"] == ["address_line", "other_identifier"]
    out = score_and_cluster(table, model)
    truth = with_extra.select("record_id", "true").join(record_map, on="record_id").join(out.clusters, on="unique_id")
    # nobody merged; nearly every person whose two records differ (a surname typo, a
    # move) found whole: the address line and identifier carry them
    split = truth.group_by("true").agg(pl.col("cluster_id").n_unique()).filter(pl.col("cluster_id") > 1).height
    assert truth.group_by("cluster_id").agg(pl.col("true").n_unique())["true"].max() == 1
    assert split <= 10

    bare_model = train(bare, max_pairs=2e4)
    assert not {"address_line", "other_identifier"} & {c["output_column_name"] for c in bare_model.settings["comparisons"]}
    # without them the same people are harder to find
    bare_out = score_and_cluster(bare, bare_model)
    bare_truth = without.select("record_id", "true").join(profiles(clean(without.drop("true")))[1], on="record_id").join(
        bare_out.clusters, on="unique_id")
    assert bare_truth.group_by("true").agg(pl.col("cluster_id").n_unique()).filter(pl.col("cluster_id") > 1).height > split
    # a model with the comparisons scores data without the fields (they are missing, weight 0)
    assert score_and_cluster(bare, model).clusters.height == bare.height


def test_match_threshold_is_configuration_per_deployment(monkeypatch):
    import pytest

    from dagster_project.linkage.scoring import MATCH_THRESHOLD, match_threshold

    monkeypatch.delenv("PHM_MATCH_THRESHOLD", raising=False)
    assert match_threshold() == MATCH_THRESHOLD
    monkeypatch.setenv("PHM_MATCH_THRESHOLD", "0.99")
    assert match_threshold() == 0.99
    for bad in ("1", "0.2", "high"):
        monkeypatch.setenv("PHM_MATCH_THRESHOLD", bad)
        with pytest.raises(ValueError, match="PHM_MATCH_THRESHOLD"):
            match_threshold()
    # a deployment's threshold reaches clustering: two profiles that agree on date of
    # birth, postcode and sex but nothing else link at a low threshold and not at a high one
    model = TrainedModel.load(MODEL_DIR / model_file())
    nameless = pl.concat([_records(record_id="P1"), _records(record_id="P2", date_of_birth=dt.date(1950, 3, 14))]).with_columns(
        pl.lit(None, pl.Utf8).alias("given_name"), pl.lit(None, pl.Utf8).alias("family_name"),
        pl.lit(None, pl.Utf8).alias("nhs_number"))
    two = profiles(clean(nameless))[0]
    probability = score_and_cluster(two, model, threshold=0.5).pairs["match_probability"].max()
    assert probability < 1
    monkeypatch.setenv("PHM_MATCH_THRESHOLD", repr(probability + (1 - probability) / 2))
    assert score_and_cluster(two, model).clusters["cluster_id"].n_unique() == 2
    monkeypatch.setenv("PHM_MATCH_THRESHOLD", str(max(0.5, probability - 0.01)))
    assert score_and_cluster(two, model).clusters["cluster_id"].n_unique() == 1
