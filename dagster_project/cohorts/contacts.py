"""Re-identification for approved direct care, from the identity zone only.

`identity/contact_details.parquet` holds, per GP record (practice_code, record_id), the NHS
number, names, date of birth, phone, postcode and address line of the newest published
gp.patients snapshot, and the start of the record's open registration. It is written beside the person index in the restricted
identity zone; the warehouse never sees it, and re-identification never reads the
warehouse for an identifier: a cohort's pseudo_id goes to the person's GP records through
`identity/pseudo_keys.parquet`, then to the record at the practice the person is
registered with (the latest open registration there).
"""

from __future__ import annotations

import polars as pl

from dagster_project.lib.files import write_parquet_versioned
from dagster_project.lib.nhs_number import valid_expr
from dagster_project.lib.zones import Zones
from dagster_project.linkage.pipeline import PSEUDO_KEYS
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry

CONTACT_DETAILS = "contact_details.parquet"
UK_PHONE = r"^0[1-37]\d{8,9}$"


def phone_kind(phone: pl.Expr) -> pl.Expr:
    """'mobile' (07..., 11 digits), 'landline' (01/02/03, 10-11 digits) or null when the
    number is missing or not a dialable UK number (after removing spaces, +44 -> 0)."""
    digits = phone.str.replace_all(r"[\s()-]", "").str.replace(r"^\+44", "0")
    ok = digits.str.contains(UK_PHONE).fill_null(False)
    return (pl.when(ok & digits.str.starts_with("07") & (digits.str.len_chars() == 11)).then(pl.lit("mobile"))
            .when(ok & ~digits.str.starts_with("07")).then(pl.lit("landline")))


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
        pl.col("date_of_birth"),
        pl.col("postcode").cast(pl.String),
        # house and street for letters: optional in the landing contract
        (pl.col("address_line").cast(pl.String) if "address_line" in patients.collect_schema().names()
         else pl.lit(None, pl.String).alias("address_line")),
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
    # in record order: the join's row order varies run to run, and the version is named by its
    # bytes, so the same extracts must give the same file (else every refresh made a new
    # version and republished every direct-care project: cohorts/inputs.fingerprint)
    details = (frame.with_columns(valid_expr("nhs_number").fill_null(False).alias("nhs_number_valid"))
               .sort("practice_code", "record_id").collect())
    # versioned: a past release is rebuilt from the contact details it re-identified with
    write_parquet_versioned(details, zones.identity / CONTACT_DETAILS)
    return details


def deceased_persons_numbers(records: pl.DataFrame) -> list[str]:
    """Valid NHS numbers that GP records (pseudo_id, nhs_number, nhs_number_valid,
    date_of_death) carry for more than one person, one of whom is recorded as deceased:
    on the living person's record such a number is wrong, however valid it looks."""
    valid = records.filter(pl.col("nhs_number_valid") & pl.col("pseudo_id").is_not_null())
    shared = valid.group_by("nhs_number").agg(pl.col("pseudo_id").n_unique().alias("people"),
                                              pl.col("date_of_death").is_not_null().any().alias("deceased"))
    return shared.filter((pl.col("people") > 1) & pl.col("deceased"))["nhs_number"].to_list()


def read_pseudo_keys(zones: Zones) -> pl.DataFrame:
    """The identity zone's record keys (source, table, practice_code, record_id, pseudo_id):
    read once per release and passed on (`gp_records`, `outreach.dq_returns`)."""
    return pl.read_parquet(zones.identity / PSEUDO_KEYS)


def gp_records(zones: Zones, keys: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every GP patients record with its pseudo_id and identity-zone details (the one join of
    pseudo_keys to contact_details; `keys` when the caller has read them already)."""
    keys = (read_pseudo_keys(zones) if keys is None else keys).filter(
        (pl.col("source") == "gp") & (pl.col("table") == "patients")
    ).select("pseudo_id", "practice_code", pl.col("record_id").cast(pl.String))
    details = pl.read_parquet(zones.identity / CONTACT_DETAILS)
    for column, dtype in (("date_of_birth", pl.Date), ("postcode", pl.String), ("address_line", pl.String)):
        if column not in details.columns:  # written before these were kept
            details = details.with_columns(pl.lit(None, dtype).alias(column))
    return keys.join(details, on=["practice_code", "record_id"], how="inner")


def lookup(zones: Zones, people: pl.DataFrame, records: pl.DataFrame | None = None) -> pl.DataFrame:
    """Identity-zone details for (pseudo_id, practice_code) rows: the record at the practice
    the person is registered with (latest open registration there), its NHS number (or the
    person's valid one from another GP record when it is missing or invalid), names, date of
    birth, phone, address line and postcode. People without a record there are absent.
    `records`: `gp_records(zones)` when the caller has it already."""
    records = gp_records(zones) if records is None else records
    at_practice = (
        people.select("pseudo_id", "practice_code").unique()
        .join(records, on=["pseudo_id", "practice_code"], how="inner")
        .sort(["pseudo_id", "registered_from", "record_id"], descending=[False, True, False], nulls_last=True)
        .unique("pseudo_id", keep="first")
    )
    disputed = deceased_persons_numbers(records)
    usable = pl.col("nhs_number_valid") & ~pl.col("nhs_number").is_in(disputed)
    any_valid = (records.filter(usable).sort("pseudo_id", "practice_code", "record_id")
                 .unique("pseudo_id", keep="first").select("pseudo_id", pl.col("nhs_number").alias("other_nhs_number")))
    return at_practice.join(any_valid, on="pseudo_id", how="left").select(
        "pseudo_id", "practice_code", "record_id",
        # never an NHS number the GP extract records for someone who has died: a wrong-but-
        # valid number on a living person's record; the person's own valid number from
        # another record if there is one, else none (and the row says: verify identity)
        pl.when(usable).then(pl.col("nhs_number")).otherwise(pl.col("other_nhs_number")).alias("nhs_number"),
        (pl.col("nhs_number").is_in(disputed) & pl.col("nhs_number_valid")).alias("nhs_number_disputed"),
        pl.col("given_name"), pl.col("family_name"),
        pl.concat_str([pl.col("given_name").fill_null(""), pl.col("family_name").fill_null("")],
                      separator=" ").str.strip_chars().alias("name"),
        "date_of_birth", "phone", "address_line", "postcode",
    )


def reidentify(zones: Zones, cohort: pl.DataFrame) -> pl.DataFrame:
    """Call-list rows for cohort rows (pseudo_id, practice_code, priority_rank, reasons,
    stratum, eligibility_group): one row per cohort row, contact_found False where the
    identity zone has no usable record or no way to reach the person (the row stays, so the
    list matches the cohort)."""
    found = lookup(zones, cohort).drop("practice_code", "record_id", "given_name", "family_name", "date_of_birth")
    return (
        cohort.join(found, on="pseudo_id", how="left")
        # found = the person's record and a way to reach them: a usable phone number or a
        # postal address
        .with_columns((pl.col("name").is_not_null() & (
            phone_kind(pl.col("phone")).is_not_null()
            | (pl.col("address_line").is_not_null() & pl.col("postcode").is_not_null()))).alias("contact_found"))
        .with_columns(pl.when(pl.col("nhs_number_disputed").fill_null(False))
                      .then(pl.lit("VERIFY IDENTITY: the NHS number on the record belongs to another person"))
                      .otherwise(pl.lit("")).alias("verify_identity"))
        .select(pl.col("practice_code"), pl.col("priority_rank").alias("priority"), "nhs_number", "name",
                "phone", pl.col("reasons").alias("reason"), "stratum", "eligibility_group", "contact_found",
                "verify_identity")
        .sort("practice_code", "priority")
    )
