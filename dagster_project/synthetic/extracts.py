"""Writing the landing extracts and the truth files.

Snapshot tables are cut from the full timeline at each extract date; increment tables
carry the records made since the previous extract, plus records that changed (a field
that became known, or a corrected first version). The first extract carries the whole
history. Files are sorted by record id so a seed always gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

IDENTITY_NAMED = ["nhs_number", "given_name", "family_name", "date_of_birth", "sex", "postcode"]
IDENTITY_ACUTE = ["nhs_number", "date_of_birth", "sex", "postcode"]
TRUTH_FLAGS = ["nhs_number_status", "name_typo", "nickname", "surname_changed", "names_swapped",
               "dob_swapped", "sex_unknown", "stale_postcode", "postcode_format_varied",
               "duplicate_registration", "dob_typo", "dob_transposed", "dob_partial", "dob_missing",
               "sex_wrong", "surname_double_barrelled", "surname_part_only", "initials_only",
               "stale_for_years", "nhs_transposed"]
OUTREACH_COLUMNS = ["project", "pseudo_id", "practice_code", "contact_date", "channel",
                    "outcome"]


@dataclass(frozen=True)
class IncrementSpec:
    """How one increment table is cut from its full-timeline frame."""

    source: str
    table: str
    id_col: str
    identity: list[str]
    columns: list[str]
    date_cols: list[str]
    # column -> day column from which its value is known (null before)
    pending: dict[str, str] = field(default_factory=dict)
    # (column, wrong first-version value, flag column)
    corrections: list[tuple[str, pl.Expr, str]] = field(default_factory=list)


def as_dates(df: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    return df.with_columns([pl.col(c).cast(pl.Int32).cast(pl.Date) for c in cols])


def write(df: pl.DataFrame, out: Path, source: str, extract: str, table: str) -> int:
    path = out / "landing" / source / extract / f"{table}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_csv(path)
    return df.height


def increment_cut(df: pl.DataFrame, k: int, days: list[int], spec: IncrementSpec) -> pl.DataFrame:
    """Records of extract k: new ones, changed ones, corrected ones (see module doc)."""
    e = days[k]
    first_k = pl.col("day").cast(pl.Int64).map_batches(
        lambda s: pl.Series(np.searchsorted(np.array(days), s.to_numpy(), side="left")),
        return_dtype=pl.Int64)
    df = df.with_columns(_fk=first_k)
    if k == 0:
        include = pl.col("day") <= e
    else:
        prev = days[k - 1]
        changed = pl.lit(False)
        for known in set(spec.pending.values()):
            changed = changed | (pl.col(known).is_between(prev + 1, e).fill_null(False))
        for _, _, flag in spec.corrections:
            changed = changed | (pl.col(flag) & (pl.col("_fk") == k - 1))
        include = (pl.col("day") <= e) & ((pl.col("day") > prev) | changed)
    out = df.filter(include)
    fixes = []
    for col, known in spec.pending.items():
        fixes.append(pl.when(pl.col(known) > e).then(None).otherwise(pl.col(col)).alias(col))
    if fixes:
        out = out.with_columns(fixes)
    fixes = [pl.when(pl.col(flag) & (pl.col("_fk") == k)).then(wrong).otherwise(pl.col(col))
             .alias(col) for col, wrong, flag in spec.corrections]
    if fixes:
        out = out.with_columns(fixes)
    out = as_dates(out.rename({"dob_rec": "date_of_birth", "sex_rec": "sex"}),
                   spec.date_cols + ["date_of_birth"])
    return out.select([spec.id_col, *spec.identity, *spec.columns]).sort(spec.id_col)


def empty_outreach() -> pl.DataFrame:
    return pl.DataFrame(schema={c: pl.String for c in OUTREACH_COLUMNS})
