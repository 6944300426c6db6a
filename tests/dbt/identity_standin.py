"""A stand-in for the identity zone, for tests and benchmarks of the warehouse only.

The real pseudo keys come from the linkage (Splink) in the identity zone, built by the
linkage engineer. Until then, and so that warehouse tests do not depend on linkage
quality, this helper writes the two files the warehouse reads, with exactly the
interface of the identity zone, from the synthetic ground truth:

- identity/pseudo_keys.parquet: source, table, practice_code (gp only), record_id,
  pseudo_id, one row per person-level record of the published raw zone;
- identity/opt_outs.parquet: pseudo_id of people any of whose records carries an NHS
  number on the national data opt-out list (newest published extract).

pseudo_id is a keyed hash of the true person id. Truth is read only here, never by dbt
or by dagster_project.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from dagster_project.lib.files import write_parquet_versioned
from dagster_project.lib.zones import Zones
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry

STANDIN_KEY = "warehouse-test-standin"


def pseudo_id_expr(col: str = "true_person_id") -> pl.Expr:
    return pl.col(col).map_elements(
        lambda v: hashlib.sha256(f"{STANDIN_KEY}:{v}".encode()).hexdigest()[:20],
        return_dtype=pl.String,
    )


def write_standin_identity(zones: Zones) -> tuple[Path, Path]:
    """Write identity/pseudo_keys.parquet and identity/opt_outs.parquet from truth."""
    truth = pl.read_parquet(zones.truth / "person_records.parquet",
                            columns=["source", "table", "record_id", "practice_code",
                                     "true_person_id"])
    ids = truth.select("true_person_id").unique().with_columns(pseudo_id=pseudo_id_expr())
    keys = truth.join(ids, on="true_person_id", how="left").with_columns(
        practice_code=pl.when(pl.col("source") == "gp").then(pl.col("practice_code"))
    )
    # only the records published in the raw zone so far, as a linkage run would key them
    # (a relink after a new month lands adds that month's records: a new identity version)
    published = published_records(zones)
    keys = keys.join(published, on=["source", "table", "record_id", "practice_code"],
                     how="semi", nulls_equal=True).sort("source", "table", "record_id", "practice_code")
    zones.identity.mkdir(parents=True, exist_ok=True)
    keys_path = zones.identity / "pseudo_keys.parquet"
    from dagster_project.linkage.pseudonymise import with_record_keys

    keys = with_record_keys(keys.select("source", "table", "practice_code", "record_id", "pseudo_id"),
                            STANDIN_KEY.encode())
    write_parquet_versioned(keys, keys_path)  # as the identity zone does

    registry = load_registry()
    opt = raw_zone.scan_published(zones.raw, registry["opt_out__national_data_opt_out"])
    opted = set(opt.select("nhs_number").collect()["nhs_number"].to_list()) if opt is not None \
        else set()
    carriers = []
    for spec in registry.values():
        if not spec.person_level:
            continue
        scan = raw_zone.scan_published(zones.raw, spec)
        if scan is None:
            continue
        rid = spec.identity["record_id"]
        cols = [pl.lit(spec.source).alias("source"), pl.lit(spec.table).alias("table"),
                pl.col(rid).cast(pl.String).alias("record_id"),
                (pl.col("practice_code") if spec.source == "gp" else pl.lit(None, pl.String))
                .alias("practice_code")]
        carriers.append(scan.filter(pl.col("nhs_number").is_in(list(opted)))
                        .select(cols).collect())
    opt_ids = pl.DataFrame(schema={"pseudo_id": pl.String})
    if carriers:
        rec = pl.concat(carriers)
        opt_ids = rec.join(keys, on=["source", "table", "record_id", "practice_code"],
                           how="inner", nulls_equal=True).select("pseudo_id").unique().sort(
            "pseudo_id")
    opt_path = zones.identity / "opt_outs.parquet"
    write_parquet_versioned(opt_ids, opt_path)
    return keys_path, opt_path


def published_records(zones: Zones) -> pl.DataFrame:
    """(source, table, record_id, practice_code) of every person-level record in any published
    partition (older snapshots too: a backfill of a past month reads them)."""
    frames = []
    for spec in load_registry().values():
        if not spec.person_level:
            continue
        rid = spec.identity["record_id"]
        for d in raw_zone.published_dates(zones.raw, spec):
            frames.append(pl.scan_parquet(raw_zone.partition_file(zones.raw, spec, d)).select(
                pl.lit(spec.source).alias("source"), pl.lit(spec.table).alias("table"),
                pl.col(rid).cast(pl.String).alias("record_id"),
                (pl.col("practice_code") if spec.source == "gp" else pl.lit(None, pl.String))
                .alias("practice_code"),
            ))
    schema = {"source": pl.String, "table": pl.String, "record_id": pl.String, "practice_code": pl.String}
    return pl.concat(frames).unique().collect() if frames else pl.DataFrame(schema=schema)


def ingest_everything(zones: Zones) -> None:
    """Ingest every landed extract of every table (oldest first), as the ingest assets do."""
    from dagster_project.sources.ingest import ingest_partition
    from dagster_project.sources.landing import discover_extracts

    for spec in load_registry().values():
        for d in discover_extracts(zones.landing, spec.source).dates:
            result = ingest_partition(zones, spec, d)
            if not result.published:
                raise RuntimeError(f"ingest failed for {spec.name} {d}: {result.reason}")
