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
