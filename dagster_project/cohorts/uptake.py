"""Did contact help? Uptake after contact against comparable people not yet contacted.

The comparison is made inside one earlier release of a project: everyone in that release's
cohort was eligible and needed the same action on the same date. Some of them the outreach
team contacted before the current release (outcomes returned to landing), the rest it had not
yet reached (capacity). For both groups the same event counts as uptake (a qualifying code or
referral, warehouse mart `mart_outreach_uptake_events`):

- contacted: an event on or after the person's first contact;
- not yet contacted: an event on or after the contacted group's median first-contact date
  (after the release date when nobody was contacted), so that both groups are followed over
  the same calendar window on average: the team works its worklists over the month, and
  counting the not yet contacted from the release date would give them a longer window
  (the flu campaign peaks in October) and hide any effect of contact.

Rates carry Wilson score 95% confidence intervals (Wilson 1927; the interval Public Health
England's "Technical Guide: Confidence Intervals" recommends for proportions), per IMD
quintile and overall. Counts 1..suppress_below-1 and the rates built on them are suppressed
before anything is written, like the release summary.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb
import polars as pl

from dagster_project.cohorts.disclosure import SUPPRESSED, small_expr

Z95 = 1.959963984540054
UPTAKE_COLUMNS = ["imd_quintile", "group", "people", "took_up", "rate", "ci_low", "ci_high", "accepted_offer"]
ACCEPTED = ("booked", "referred", "accepted")


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for x successes out of n (0 <= x <= n, n > 0)."""
    if n <= 0:
        raise ValueError("a confidence interval needs at least one person")
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def compare(previous_cohort: pl.DataFrame, contacts: pl.DataFrame, events: pl.DataFrame,
            released: str) -> pl.DataFrame:
    """Uptake by IMD quintile and group (contacted / not yet contacted), unsuppressed.

    previous_cohort: pseudo_id, imd_quintile (the earlier release's people);
    contacts: pseudo_id, contact_date, outcome (contacts after that release);
    events: pseudo_id, event_date (qualifying events of the project)."""
    first = contacts.group_by("pseudo_id").agg(
        pl.col("contact_date").min().alias("first_contact"),
        pl.col("outcome").is_in(list(ACCEPTED)).any().alias("accepted_offer"))
    people = previous_cohort.select("pseudo_id", pl.col("imd_quintile").cast(pl.String).fill_null("unknown")) \
        .unique("pseudo_id").join(first, on="pseudo_id", how="left")
    release_day = dt.date.fromisoformat(released)
    median_contact = first["first_contact"].cast(pl.Date).sort().gather(first.height // 2).item() \
        if first.height else None
    index_day = pl.lit(median_contact, pl.Date) if median_contact is not None else None
    took = (people.join(events.select("pseudo_id", "event_date"), on="pseudo_id", how="left")
            .with_columns(hit=pl.when(pl.col("first_contact").is_not_null())
                          .then(pl.col("event_date") >= pl.col("first_contact"))
                          .otherwise(pl.col("event_date") >= index_day if index_day is not None
                                     else pl.col("event_date") > pl.lit(release_day, pl.Date)).fill_null(False))
            .group_by("pseudo_id").agg(pl.col("hit").any()))
    people = people.join(took, on="pseudo_id").with_columns(
        group=pl.when(pl.col("first_contact").is_not_null()).then(pl.lit("contacted"))
        .otherwise(pl.lit("not yet contacted")))
    both = pl.concat([people, people.with_columns(imd_quintile=pl.lit("all"))])
    table = both.group_by("imd_quintile", "group").agg(
        pl.len().alias("people"), pl.col("hit").sum().alias("took_up"),
        pl.col("accepted_offer").fill_null(False).sum().alias("accepted_offer"))
    rows = []
    for r in table.iter_rows(named=True):
        lo, hi = wilson(r["took_up"], r["people"])
        rows.append({**r, "rate": r["took_up"] / r["people"], "ci_low": lo, "ci_high": hi})
    order = {"all": "0", "unknown": "9"}
    return pl.DataFrame(rows, schema={"imd_quintile": pl.String, "group": pl.String, "people": pl.Int64,
                                      "took_up": pl.Int64, "accepted_offer": pl.Int64, "rate": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64}) \
        .with_columns(pl.when(pl.col("group") == "contacted").then(pl.col("accepted_offer")).alias("accepted_offer")) \
        .sort(pl.col("imd_quintile").replace(order), "group").select(UPTAKE_COLUMNS)


def suppress(table: pl.DataFrame, suppress_below: int) -> pl.DataFrame:
    """Strings for sharing: counts 1..suppress_below-1 and rates built on them suppressed."""
    small = lambda c: small_expr(pl.col(c), suppress_below)  # noqa: E731
    hide_rate = small("people") | small("took_up") | small_expr(pl.col("people") - pl.col("took_up"), suppress_below)
    return table.with_columns(
        *[pl.when(hide_rate).then(pl.lit(SUPPRESSED)).otherwise(pl.col(c).round(4).cast(pl.String)).alias(c)
          for c in ("rate", "ci_low", "ci_high")],
        *[pl.when(small(c)).then(pl.lit(SUPPRESSED)).otherwise(pl.col(c).cast(pl.String).fill_null("")).alias(c)
          for c in ("people", "took_up", "accepted_offer")],
    ).select(UPTAKE_COLUMNS)


def previous_release(published: Path, project_id: str, before: str) -> str | None:
    """The run date of the project's newest published release before `before`."""
    root = published / project_id
    dates = sorted(p.name for p in root.glob("????-??-??") if p.name < before and (p / "cohort.parquet").exists()) \
        if root.exists() else []
    return dates[-1] if dates else None


def for_release(published: Path, warehouse: Path, project_id: str, run_date: str) -> tuple[str | None, pl.DataFrame]:
    """(previous run date, unsuppressed comparison) for the release of `run_date`; an empty
    table when there is no earlier release or no outcome has come back for it."""
    empty = pl.DataFrame(schema={c: pl.String for c in UPTAKE_COLUMNS})
    previous = previous_release(published, project_id, run_date)
    if previous is None:
        return None, empty
    cohort = pl.read_parquet(published / project_id / previous / "cohort.parquet", columns=["pseudo_id"])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {r[0] for r in con.sql("select table_schema || '.' || table_name from information_schema.tables").fetchall()}
        if not {"staging.stg_outreach__outcomes", "marts.mart_outreach_uptake_events"} <= tables:
            return previous, empty
        contacts = con.execute(
            "select pseudo_id, contact_date, outcome from staging.stg_outreach__outcomes "
            "where project = ? and contact_date > ? and contact_date <= ?",
            [project_id, previous, run_date]).pl()
        events = con.execute("select pseudo_id, event_date from marts.mart_outreach_uptake_events where project = ?",
                             [project_id]).pl()
        imd = con.sql("select pseudo_id, imd_quintile from marts.dim_person").pl()
    finally:
        con.close()
    if contacts.height == 0:
        return previous, empty
    cohort = cohort.join(imd, on="pseudo_id", how="left")
    return previous, compare(cohort, contacts, events, previous)
