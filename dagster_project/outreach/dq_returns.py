"""Data-quality returns to practices: what linkage and outreach found wrong in the GP record.

Built in the identity zone (the practice's own record ids, NHS numbers and names are what
it needs to correct its record) and written only into re-identified direct-care folders of
approved practices (`outreach.release`). One row per GP record and kind:

- `nhs_number_of_deceased_person`: a living person's record carries a valid NHS number that
  the GP extract also records for a different person who has died (linkage says they are
  two people: different names and dates of birth) - the number on this record is wrong;
- `nhs_number_shared_with_another_person`: the same, the other person living;
- `duplicate_registration`: the person has more than one open registration (same or
  another practice);
- `death_recorded_elsewhere`: another GP record of the same person records a death while
  this one is open;
- `phone_number_failed`: the outreach team's latest call reported a wrong number;
- `moved_per_other_source`: the person's newest hospital, community, Talking Therapies or
  social care record of the last 12 months has a different postcode from the GP record.

`verify_identity` marks the kinds that put the person's identity in doubt; call lists carry
the flag and never the disputed NHS number (`cohorts.contacts.lookup`).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from dagster_project.cohorts.contacts import deceased_persons_numbers, gp_records, read_pseudo_keys
from dagster_project.lib.zones import Zones
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry

DECEASED_NUMBER = "nhs_number_of_deceased_person"
SHARED_NUMBER = "nhs_number_shared_with_another_person"
DUPLICATE = "duplicate_registration"
DEATH_ELSEWHERE = "death_recorded_elsewhere"
FAILED_PHONE = "phone_number_failed"
MOVED = "moved_per_other_source"
IDENTITY_IN_DOUBT = (DECEASED_NUMBER, SHARED_NUMBER, DEATH_ELSEWHERE)
MOVED_LOOKBACK_DAYS = 365


def _norm_postcode(col: str) -> pl.Expr:
    return pl.col(col).str.to_uppercase().str.replace_all(r"\s", "")


def from_records(records: pl.DataFrame) -> pl.DataFrame:
    """Record-level kinds from GP records (pseudo_id, practice_code, record_id, nhs_number,
    nhs_number_valid, date_of_death, registered_from): numbers, duplicates, deaths."""
    records = records.filter(pl.col("pseudo_id").is_not_null())
    living = records.filter(pl.col("date_of_death").is_null())
    deceased_numbers = deceased_persons_numbers(records)
    shared = (records.filter(pl.col("nhs_number_valid")).group_by("nhs_number")
              .agg(pl.col("pseudo_id").n_unique().alias("people")).filter(pl.col("people") > 1)["nhs_number"].to_list())
    numbers = living.filter(pl.col("nhs_number_valid") & pl.col("nhs_number").is_in(shared)).with_columns(
        pl.when(pl.col("nhs_number").is_in(deceased_numbers)).then(pl.lit(DECEASED_NUMBER))
        .otherwise(pl.lit(SHARED_NUMBER)).alias("kind"),
        pl.when(pl.col("nhs_number").is_in(deceased_numbers))
        .then(pl.lit("The NHS number on this record is recorded for a different person who has died: "
                     "confirm the patient's NHS number (PDS trace) and correct the record."))
        .otherwise(pl.lit("The NHS number on this record is also recorded for a different person: "
                          "confirm the patient's NHS number (PDS trace).")).alias("detail"))
    open_ = living.filter(pl.col("registered_from").is_not_null())
    many = open_.group_by("pseudo_id").agg(pl.len().alias("open_records"),
                                           pl.col("practice_code").unique().sort().str.join(", ").alias("practices"))
    duplicates = open_.join(many.filter(pl.col("open_records") > 1), on="pseudo_id").with_columns(
        pl.lit(DUPLICATE).alias("kind"),
        pl.concat_str(pl.lit("This patient has "), pl.col("open_records").cast(pl.String),
                      pl.lit(" open registrations (practices "), pl.col("practices"),
                      pl.lit("): merge or deduct the duplicate.")).alias("detail"))
    dead = records.filter(pl.col("date_of_death").is_not_null()).group_by("pseudo_id").agg(
        pl.col("date_of_death").max().alias("died"))
    deaths = open_.join(dead, on="pseudo_id").with_columns(
        pl.lit(DEATH_ELSEWHERE).alias("kind"),
        pl.concat_str(pl.lit("Another GP record of this patient records a death on "), pl.col("died").cast(pl.String),
                      pl.lit(": check and update this registration.")).alias("detail"))
    return pl.concat([f.select("practice_code", "record_id", "pseudo_id", "kind", "detail", "nhs_number")
                      for f in (numbers, duplicates, deaths)])


def failed_phones(outcomes: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """outcomes: pseudo_id, practice_code, contact_date, channel, outcome. A person whose
    latest phone contact was a wrong number, on their open record at that practice."""
    latest = (outcomes.filter(pl.col("channel") == "phone").sort("contact_date")
              .group_by("pseudo_id", "practice_code").agg(pl.col("outcome").last(), pl.col("contact_date").last())
              .filter(pl.col("outcome") == "wrong_number"))
    return latest.join(records.filter(pl.col("registered_from").is_not_null()),
                       on=["pseudo_id", "practice_code"]).select(
        "practice_code", "record_id", "pseudo_id", pl.lit(FAILED_PHONE).alias("kind"),
        pl.concat_str(pl.lit("The outreach team's call on "), pl.col("contact_date").cast(pl.String),
                      pl.lit(" reached a wrong number: update the phone number.")).alias("detail"),
        "nhs_number")


def moved(other: pl.DataFrame, records: pl.DataFrame, run_date: str) -> pl.DataFrame:
    """other: pseudo_id, postcode, seen_on (non-GP records). The newest record in the last
    MOVED_LOOKBACK_DAYS with a postcode different from the open GP record's."""
    since = dt.date.fromisoformat(run_date) - dt.timedelta(days=MOVED_LOOKBACK_DAYS)
    newest = (other.filter(pl.col("postcode").is_not_null() & (pl.col("seen_on") >= since))
              .sort("seen_on").group_by("pseudo_id").agg(pl.col("postcode").last().alias("other_postcode"),
                                                          pl.col("seen_on").last(), pl.col("source").last()))
    return (records.filter(pl.col("registered_from").is_not_null() & pl.col("postcode").is_not_null()
                           & pl.col("date_of_death").is_null())
            .join(newest, on="pseudo_id")
            .filter(_norm_postcode("postcode") != _norm_postcode("other_postcode"))
            .select("practice_code", "record_id", "pseudo_id", pl.lit(MOVED).alias("kind"),
                    pl.concat_str(pl.lit("A "), pl.col("source").str.replace("_", " "), pl.lit(" record of "),
                                  pl.col("seen_on").cast(pl.String),
                                  pl.lit(" gives a different postcode: confirm the patient's address.")).alias("detail"),
                    "nhs_number"))


def other_source_postcodes(zones: Zones, keys: pl.DataFrame | None = None) -> pl.DataFrame:
    """pseudo_id, source, postcode, seen_on from every non-GP person-level table with a
    postcode and an event date (raw zone, read only here in the identity process); `keys`:
    the pseudo_keys when the caller has read them already."""
    keys = (read_pseudo_keys(zones) if keys is None else keys).filter(pl.col("source") != "gp")
    parts = []
    for spec in load_registry().values():
        ident = spec.identity or {}
        if spec.source == "gp" or not getattr(spec, "person_level", False) or "postcode" not in ident \
                or not spec.event_date:
            continue
        frame = raw_zone.scan_published(zones.raw, spec)
        if frame is None:
            continue
        part = frame.select(pl.col(ident["record_id"]).cast(pl.String).alias("record_id"),
                            pl.col(ident["postcode"]).cast(pl.String).alias("postcode"),
                            pl.col(spec.event_date).cast(pl.Date).alias("seen_on")).collect()
        k = keys.filter((pl.col("source") == spec.source) & (pl.col("table") == spec.table)).select(
            pl.col("record_id").cast(pl.String), "pseudo_id")
        parts.append(part.join(k, on="record_id").select("pseudo_id", pl.lit(spec.source).alias("source"),
                                                          "postcode", "seen_on"))
    return pl.concat(parts) if parts else pl.DataFrame(
        schema={"pseudo_id": pl.String, "source": pl.String, "postcode": pl.String, "seen_on": pl.Date})


def build(zones: Zones, run_date: str, keys: pl.DataFrame | None = None,
          records: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every return row (all practices) as of the run date, with identity-zone details.
    `keys` / `records`: the pseudo_keys and `contacts.gp_records` when the caller has them."""
    keys = read_pseudo_keys(zones) if keys is None else keys
    records = gp_records(zones, keys) if records is None else records
    outcomes = pl.DataFrame(schema={"pseudo_id": pl.String, "practice_code": pl.String, "contact_date": pl.Date,
                                    "channel": pl.String, "outcome": pl.String})
    warehouse = zones.warehouse_db
    if warehouse.exists():
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            if con.sql("select count(*) from information_schema.tables where table_schema = 'staging' "
                       "and table_name = 'stg_outreach__outcomes'").fetchone()[0]:
                outcomes = con.execute("select pseudo_id, practice_code, contact_date, channel, outcome "
                                       "from staging.stg_outreach__outcomes where contact_date <= ?", [run_date]).pl()
        finally:
            con.close()
    rows = pl.concat([from_records(records), failed_phones(outcomes, records),
                      moved(other_source_postcodes(zones, keys), records, run_date)])
    who = records.select("practice_code", "record_id",
                         pl.concat_str([pl.col("given_name").fill_null(""), pl.col("family_name").fill_null("")],
                                       separator=" ").str.strip_chars().alias("name"), "date_of_birth")
    return (rows.unique(["practice_code", "record_id", "kind"], keep="first")
            .with_columns(pl.col("kind").is_in(list(IDENTITY_IN_DOUBT)).alias("verify_identity"))
            .join(who, on=["practice_code", "record_id"], how="left")
            .sort("practice_code", "kind", "record_id"))


def for_practice(dq: pl.DataFrame, practice: str) -> pl.DataFrame:
    """The practice's return file: its own record ids and what to correct."""
    return dq.filter(pl.col("practice_code") == practice).select(
        "kind", pl.col("record_id").alias("patient_id"), "nhs_number", "name", "date_of_birth", "detail",
        pl.when(pl.col("verify_identity")).then(pl.lit("yes")).otherwise(pl.lit("")).alias("verify_identity"))


def flag_identity(plan: pl.DataFrame, dq: pl.DataFrame) -> pl.DataFrame:
    """verify_identity on plan rows of people whose identity is in doubt (any of their
    records in IDENTITY_IN_DOUBT, or the number looked up was disputed)."""
    doubt = dq.filter(pl.col("verify_identity"))["pseudo_id"].unique().to_list()
    disputed = pl.col("nhs_number_disputed").fill_null(False) if "nhs_number_disputed" in plan.columns else pl.lit(False)
    return plan.with_columns((pl.col("pseudo_id").is_in(doubt) | disputed).alias("verify_identity"))
