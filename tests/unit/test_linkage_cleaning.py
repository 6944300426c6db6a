"""Identity cleaning: equal things compare equal; known-wrong values become missing, flagged."""

import datetime as dt

import polars as pl

from dagster_project.linkage.records import clean, normalise_postcode, profiles


def _records(**overrides):
    base = {
        "source": ["gp"], "table": ["patients"], "practice_code": ["D82001"], "record_id": ["P1"],
        "nhs_number": ["9434765919"], "given_name": ["Mary-Anne"], "family_name": [" o'neil  smith "],
        "date_of_birth": [dt.date(1950, 3, 4)], "sex": ["f"], "postcode": ["nr12ab"],
    }
    base.update({k: [v] for k, v in overrides.items()})
    return pl.DataFrame(base)


def test_names_are_upper_case_letters_and_single_spaces():
    row = clean(_records()).row(0, named=True)
    assert row["given_name"] == "MARYANNE"
    assert row["family_name"] == "ONEIL SMITH"


def test_postcodes_are_normalised_and_nonsense_is_missing():
    frame = pl.DataFrame({"p": ["nr12ab", "NR1 2AB", " nr1  2ab", "PE30 1XY", "12345", "", None]})
    assert frame.select(normalise_postcode("p")).to_series().to_list() == [
        "NR1 2AB", "NR1 2AB", "NR1 2AB", "PE30 1XY", None, None, None,
    ]


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
