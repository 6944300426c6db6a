"""Re-identification for approved direct care, from the identity zone only.

`identity/contact_details.parquet` holds, per GP record (practice_code, record_id), the NHS
number, names and phone of the newest published gp.patients snapshot, and the start of
the record's open registration. It is written beside the person index in the restricted
identity zone; the warehouse never sees it, and re-identification never reads the
warehouse for an identifier: a cohort's pseudo_id goes to the person's GP records through
`identity/pseudo_keys.parquet`, then to the record at the practice the person is
registered with (the latest open registration there).
"""

from __future__ import annotations

import polars as pl

from dagster_project.lib.files import write_parquet_atomic
from dagster_project.lib.nhs_number import valid_expr
from dagster_project.lib.zones import Zones
from dagster_project.linkage.pipeline import PSEUDO_KEYS
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry

CONTACT_DETAILS = "contact_details.parquet"


def build_contact_details(zones: Zones) -> pl.DataFrame:
    """Contact details per GP record from the newest published gp.patients / registrations."""
    registry = load_registry()
    patients = raw_zone.scan_published(zones.raw, registry["gp__patients"])
    registrations = raw_zone.scan_published(zones.raw, registry["gp__registrations"])
    if patients is None:
        raise RuntimeError(f"no published gp.patients extract under {zones.raw}: ingest it first")
    frame = patients.select(
        pl.col("practice_code").cast(pl.String),
        pl.col("patient_id").cast(pl.String).alias("record_id"),
        pl.col("nhs_number").cast(pl.String),
        pl.col("given_name").cast(pl.String),
        pl.col("family_name").cast(pl.String),
        pl.col("phone").cast(pl.String),
        pl.col("date_of_death"),
    )
    if registrations is not None:
        open_registration = (
            registrations.filter(pl.col("registered_to").is_null())
            .group_by(pl.col("practice_code").cast(pl.String), pl.col("patient_id").cast(pl.String).alias("record_id"))
            .agg(pl.col("registered_from").max())
        )
        frame = frame.join(open_registration, on=["practice_code", "record_id"], how="left")
    else:
        frame = frame.with_columns(pl.lit(None, pl.Date).alias("registered_from"))
    details = frame.with_columns(valid_expr("nhs_number").fill_null(False).alias("nhs_number_valid")).collect()
    write_parquet_atomic(details, zones.identity / CONTACT_DETAILS)
    return details


def reidentify(zones: Zones, cohort: pl.DataFrame) -> pl.DataFrame:
    """Call-list rows for cohort rows (pseudo_id, practice_code, priority_rank, reasons,
    stratum, eligibility_group): one row per cohort row, contact_found False where the
    identity zone has no usable record (the row stays, so the list matches the cohort)."""
    keys = pl.read_parquet(zones.identity / PSEUDO_KEYS).filter(
        (pl.col("source") == "gp") & (pl.col("table") == "patients")
    ).select("pseudo_id", "practice_code", pl.col("record_id").cast(pl.String))
    details = pl.read_parquet(zones.identity / CONTACT_DETAILS)
    records = keys.join(details, on=["practice_code", "record_id"], how="inner")
    # the record at the practice the person is registered with: latest open registration
    at_practice = (
        cohort.select("pseudo_id", "practice_code")
        .join(records, on=["pseudo_id", "practice_code"], how="inner")
        .sort(["pseudo_id", "registered_from", "record_id"], descending=[False, True, False], nulls_last=True)
        .unique("pseudo_id", keep="first")
    )
    # a missing or invalid NHS number on that record: the person's valid one from any GP record
    any_valid = (records.filter(pl.col("nhs_number_valid")).sort("pseudo_id", "practice_code", "record_id")
                 .unique("pseudo_id", keep="first").select("pseudo_id", pl.col("nhs_number").alias("other_nhs_number")))
    found = at_practice.join(any_valid, on="pseudo_id", how="left").select(
        "pseudo_id",
        pl.when(pl.col("nhs_number_valid")).then(pl.col("nhs_number"))
        .otherwise(pl.col("other_nhs_number")).alias("nhs_number"),
        pl.concat_str([pl.col("given_name").fill_null(""), pl.col("family_name").fill_null("")],
                      separator=" ").str.strip_chars().alias("name"),
        pl.col("phone"),
    )
    return (
        cohort.join(found, on="pseudo_id", how="left")
        .with_columns(pl.col("name").is_not_null().alias("contact_found"))
        .select(pl.col("practice_code"), pl.col("priority_rank").alias("priority"), "nhs_number", "name",
                "phone", pl.col("reasons").alias("reason"), "stratum", "eligibility_group", "contact_found")
        .sort("practice_code", "priority")
    )
