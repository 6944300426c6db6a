"""Pseudonymisation: a keyed hash of the person id, and the keys the warehouse receives.

`pseudo_id = HMAC-SHA256(key, person_id)` (first 32 hex digits, 128 bits). Without the
key nobody can recompute a pseudo id from a person id, or test a guess. The key comes from
configuration (`PHM_PSEUDO_KEY`), never from code; rotating it re-pseudonymises everything
(README: "Key rotation").

Defence in depth, for a key that leaks:
- person ids are opaque random tokens (stable_ids), so a leaked key does not let anyone
  enumerate `P0000000001...` and reverse every pseudo id;
- every other key the warehouse carries is keyed too: `record_key = HMAC(key, "record|"
  source|table|practice|local id)` replaces the plain MD5 of local patient or client ids,
  which brute force reversed in seconds;
- the public demo key is refused unless the data directory is the synthetic demo (it holds
  the generator's ground truth, `truth/people.parquet`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import polars as pl

from dagster_project.lib.nhs_number import valid_expr

PSEUDO_HEX = 32
KEY_ENV = "PHM_PSEUDO_KEY"
DEMO_KEY_PREFIX = "DEMO-KEY"  # the Makefile's public key for the synthetic demo
SYNTHETIC_MARKER = Path("truth") / "people.parquet"  # written only by the synthetic generator


class PseudoKeyError(ValueError):
    """The pseudonymisation key is unusable: a permanent error, never retried."""


def pseudo_id(key: bytes, person_id: str) -> str:
    return hmac.new(key, person_id.encode(), hashlib.sha256).hexdigest()[:PSEUDO_HEX]


def is_synthetic_demo(data_dir: Path) -> bool:
    return (Path(data_dir) / SYNTHETIC_MARKER).is_file()


def require_key(raw: str | None, data_dir: Path | str | None = None) -> bytes:
    """The key as bytes, or a clear refusal naming PHM_PSEUDO_KEY.

    `data_dir` (default `$PHM_DATA_DIR`): the demo key is accepted only where the synthetic
    generator's ground truth is, so it can never pseudonymise real extracts.
    """
    if not raw or len(raw) < 16:
        raise PseudoKeyError(
            f"{KEY_ENV} is not set (or shorter than 16 characters): set the pseudonymisation "
            "key in the environment (a secret of at least 16 characters, from your key store)."
        )
    if raw.startswith(DEMO_KEY_PREFIX):
        where = Path(data_dir or os.environ.get("PHM_DATA_DIR", "data"))
        if not is_synthetic_demo(where):
            raise PseudoKeyError(
                f"{KEY_ENV} is the public demo key, and {where} is not the synthetic demo (no "
                f"{SYNTHETIC_MARKER}): anyone could reverse its pseudo ids. Set {KEY_ENV} to "
                "your own secret for this data directory."
            )
    return raw.encode()


def record_key(key: bytes, source: str, table: str, practice_code: str | None, record_id: str) -> str:
    """A keyed, opaque key of one source record (for joins inside the warehouse)."""
    message = "|".join(["record", source, table, practice_code or "", record_id]).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:PSEUDO_HEX]


def with_record_keys(keys: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """`record_key` for every (source, table, practice_code, record_id) row."""
    return keys.with_columns(
        pl.struct("source", "table", "practice_code", "record_id").map_elements(
            lambda r: record_key(key, r["source"], r["table"], r["practice_code"], str(r["record_id"])),
            return_dtype=pl.Utf8,
        ).alias("record_key")
    )


def pseudo_keys(person_index: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Record keys mapped to pseudo ids: the only link between the warehouse and a person."""
    people = person_index.select("person_id").unique()
    people = people.with_columns(
        pl.col("person_id").map_elements(lambda p: pseudo_id(key, p), return_dtype=pl.Utf8).alias("pseudo_id")
    )
    keys = person_index.join(people, on="person_id").select(
        "source", "table", "practice_code", "record_id", "pseudo_id"
    ).sort("source", "table", "practice_code", "record_id")
    return with_record_keys(keys, key)


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
