"""Audit columns derived from an extract so that row-level rules can be expressed in GX.

Great Expectations 1.x validates pandas frames; some of our rules need logic it has no
built-in expectation for (NHS number modulus 11, a record key unique across batches,
an event not before the person's birth). Each becomes a column computed here in polars
(vectorised, over the whole extract, so batching GX never hides a duplicate), and the
suite asserts on it with an ordinary expectation. The columns start with `_` and never
reach the raw zone.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dagster_project.lib.nhs_number import valid_expr

NHS_VALID = "_nhs_number_is_valid"
KEY_DUPLICATE = "_record_key_is_duplicate"
DAYS_AFTER_BIRTH = "_days_after_birth"
DEATH_BEFORE_BIRTH = "_death_before_birth"


def key_duplicated(frame: pl.DataFrame, record_key: Sequence[str]) -> pl.Series:
    """True on every row whose record key occurs more than once (nulls compare equal).

    A 64-bit hash of the key finds the candidates (every copy of a repeated key has the same
    hash) and the exact comparison runs only on them: on a 17-million-row GP journal the
    exact check over whole keys cost 0.3 GiB more per 3.6 million rows and was slower.
    """
    key = pl.struct(list(record_key))
    candidate = frame.select(key.hash().is_duplicated()).to_series()
    duplicated = pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True)
    if not candidate.any():
        return duplicated
    exact = (frame.select(list(record_key)).with_row_index("_i").filter(candidate)
             .filter(key.is_duplicated())["_i"])
    return duplicated.scatter(exact, True)


def add_audit_columns(
    frame: pl.DataFrame, record_key: Sequence[str], event_date: str | None,
    births: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The extract with the audit columns its suite refers to: `record_key` and `event_date`
    are the table's (registry) record key and event-date column; quality imports no area.

    `births` (patient key columns + date_of_birth) lets tables without a date of birth of
    their own (GP events, medications) check that events do not precede birth.
    """
    exprs: list[pl.Expr] = [key_duplicated(frame, record_key).alias(KEY_DUPLICATE)]
    if "nhs_number" in frame.columns:
        exprs.append(
            pl.when(pl.col("nhs_number").is_not_null())
            .then(valid_expr("nhs_number"))
            .otherwise(None)
            .alias(NHS_VALID)
        )
    if {"date_of_birth", "date_of_death"} <= set(frame.columns):
        # null when either date is missing: GX counts only rows where both are known
        exprs.append((pl.col("date_of_death") < pl.col("date_of_birth")).alias(DEATH_BEFORE_BIRTH))
    out = frame.with_columns(exprs)
    if event_date and event_date in out.columns:
        if "date_of_birth" in out.columns:
            dob = pl.col("date_of_birth")
        elif births is not None and {"practice_code", "patient_id"} <= set(out.columns):
            # join only the key columns (not the whole extract: a 17-million-row GP journal
            # copied for one date column is gigabytes), keeping the extract's row order
            dob_series = (
                out.select("practice_code", "patient_id")
                .join(births, on=["practice_code", "patient_id"], how="left", maintain_order="left")
                .get_column("date_of_birth")
            )
            out = out.with_columns(dob_series.alias("_dob"))
            dob = pl.col("_dob")
        elif {"practice_code", "patient_id"} <= set(out.columns):
            dob = pl.lit(None, dtype=pl.Date)  # no patients extract of this date: not checkable
        else:
            dob = None
        if dob is not None:
            out = out.with_columns(
                (pl.col(event_date) - dob).dt.total_days().alias(DAYS_AFTER_BIRTH)
            )
            if "_dob" in out.columns:
                out = out.drop("_dob")
    return out

