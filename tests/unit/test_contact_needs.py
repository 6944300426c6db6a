"""The synthetic GP record's Accessible Information Standard needs: real concept ids from the
seed, at the documented rates (dagster_project/synthetic/contact_needs.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.synthetic import contact_needs as C

SEED = Path(__file__).parents[2] / "dbt/seeds/outreach/outreach_contact_codes.csv"


def _people(n: int, age: int) -> pl.DataFrame:
    return pl.DataFrame({"person_idx": np.arange(n), "age": [age] * n, "dob": [-20_000] * n,
                         "dod": pl.Series([None] * n, dtype=pl.Int64),
                         "ethnicity_group16": ["White - British"] * n})


def test_ais_codes_generated_are_in_the_seed_with_a_source():
    seed = pl.read_csv(SEED, schema_overrides={"code": pl.String})
    assert seed["source"].null_count() == 0
    events = C.contact_need_events(_people(20_000, 80), 20_000, np.random.default_rng(1))
    assert set(events["snomed_code"].unique()) <= set(seed["code"])
    assert {C.BSL_INTERPRETER_NEEDED, C.CONTACT_BY_LETTER, *C.LARGE_PRINT} <= set(events["snomed_code"])


def test_ais_rates_follow_age():
    rng = np.random.default_rng(2)
    old = dict(C.ais_needs(_people(100_000, 80), rng))
    young = dict(C.ais_needs(_people(100_000, 30), rng))
    large_old = sum(old[c].mean() for c in C.LARGE_PRINT)
    large_young = sum(young[c].mean() for c in C.LARGE_PRINT)
    assert abs(large_old - 0.04) < 0.005 and abs(large_young - 0.002) < 0.001
    assert abs(old[C.CONTACT_BY_LETTER].mean() - 0.02) < 0.003 and old[C.CONTACT_BY_SMS].sum() == 0
    assert abs(young[C.BSL_INTERPRETER_NEEDED].mean() - C.BSL_RATE) < 0.0006
    # at most one required contact method per person
    methods = young[C.CONTACT_BY_LETTER].astype(int) + young[C.CONTACT_BY_TELEPHONE] + young[C.CONTACT_BY_SMS]
    assert methods.max() == 1


def test_main_spoken_language_codes_are_sourced_and_follow_the_group_rates():
    """Every main-language concept the generator writes is in the seed with its source; a
    person who needs an interpreter always has a main language other than English; the
    share of Other White people with another main language is the documented 60%."""
    seed = pl.read_csv(SEED, schema_overrides={"code": pl.String})
    languages = seed.filter(pl.col("need") == "main_language")
    assert dict(zip(languages["effect"], languages["code"])) == {"English": C.MAIN_LANGUAGE_ENGLISH,
                                                                  **C.LANGUAGE_CODES}
    assert languages["source"].str.contains("SD367").all()
    n = 40_000
    rng = np.random.default_rng(5)
    groups = ["White - Any other White background"] * n + ["White - British"] * n
    interpreter = np.zeros(2 * n, dtype=bool)
    interpreter[n - 100:n + 100] = True  # some of each group need an interpreter
    got = C.main_languages(groups, interpreter, rng)
    other_white, british = got[:n], got[n:]
    assert abs((other_white != "English").mean() - 0.60) < 0.01
    assert (british[100:] != "English").mean() < 0.004
    assert (got[interpreter] != "English").all()
    assert set(other_white) - {"English"} <= set(C.EUROPEAN)
    assert (other_white == "Polish").sum() > (other_white == "Latvian").sum()
    people = _people(n, 40).with_columns(pl.Series("ethnicity_group16", groups[:n]))
    events = C.contact_need_events(people, 20_000, np.random.default_rng(6))
    codes = set(events["snomed_code"])
    assert {C.LANGUAGE_CODES["Polish"], C.MAIN_LANGUAGE_ENGLISH} <= codes <= set(seed["code"])
    # recorded for about a third of people (always for those who need an interpreter)
    recorded = events.filter(pl.col("snomed_code").is_in([C.MAIN_LANGUAGE_ENGLISH, *C.LANGUAGE_CODES.values()]))
    assert recorded["person_idx"].n_unique() == recorded.height
    need = C.INTERPRETER_RATE_BY_GROUP["White - Any other White background"]
    assert abs(recorded.height / n - (need + (1 - need) * C.ENGLISH_RECORDED_RATE)) < 0.01
