"""Pseudonymisation: a keyed hash of the person id, and the keys the warehouse receives.

`pseudo_id = HMAC-SHA256(key, person_id)` (first 32 hex digits, 128 bits). Without the
key nobody can recompute a pseudo id from a person id, or test a guess. The key comes from
configuration (`PHM_PSEUDO_KEY`), never from code; rotating it re-pseudonymises everything.
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

from dagster_project.lib.nhs_number import valid_expr

PSEUDO_HEX = 32


def pseudo_id(key: bytes, person_id: str) -> str:
    return hmac.new(key, person_id.encode(), hashlib.sha256).hexdigest()[:PSEUDO_HEX]


def require_key(raw: str | None) -> bytes:
    if not raw or len(raw) < 16:
        raise ValueError(
            "PHM_PSEUDO_KEY is not set (or shorter than 16 characters): set the pseudonymisation "
            "key in the environment. `make` sets a labelled demo key for synthetic data only."
        )
    return raw.encode()


def pseudo_keys(person_index: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Record keys mapped to pseudo ids: the only link between the warehouse and a person."""
    people = person_index.select("person_id").unique()
    people = people.with_columns(
        pl.col("person_id").map_elements(lambda p: pseudo_id(key, p), return_dtype=pl.Utf8).alias("pseudo_id")
    )
    return person_index.join(people, on="person_id").select(
        "source", "table", "practice_code", "record_id", "pseudo_id"
    ).sort("source", "table", "practice_code", "record_id")


def opted_out(records: pl.DataFrame, keys: pl.DataFrame, opt_out_numbers: pl.DataFrame) -> pl.DataFrame:
    """Pseudo ids of people any of whose records carries an NHS number on the opt-out list.

    Matching through the linked person (not the single record) means an opt-out recorded
    against the GP record also removes the person's hospital and social care records.
    """
    numbers = opt_out_numbers.filter(valid_expr("nhs_number")).select("nhs_number").unique()
    hits = records.join(numbers, on="nhs_number").select("source", "table", "practice_code", "record_id")
    return (
        keys.join(hits, on=["source", "table", "practice_code", "record_id"], nulls_equal=True)
        .select("pseudo_id").unique().sort("pseudo_id")
        .with_columns(pl.lit("national_data_opt_out").alias("opt_out_type"))
    )
