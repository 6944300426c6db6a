"""Identity records: the identity fields of every person-level record, cleaned.

Only the identity zone reads these. Cleaning makes equal things compare equal (case,
spacing, punctuation, postcode format) and turns values we know to be wrong into
missing values, flagged, rather than evidence: an NHS number failing modulus 11 is not a
weak match, it is no NHS number at all; sex `U` says nothing.

Many records of one person carry identical identity fields (fifty outpatient
appointments with the same NHS number, date of birth, sex and postcode). Linkage runs
on distinct *identity profiles*, and every record inherits its profile's person: the
same answer, scored once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from dagster_project.lib.nhs_number import valid_expr
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import TableSpec, load_registry

log = logging.getLogger(__name__)

RECORD_KEY = ["source", "table", "practice_code", "record_id"]
IDENTITY_FIELDS = ["nhs_number", "given_name", "family_name", "date_of_birth", "sex", "postcode"]
PROFILE_FIELDS = [
    "nhs_number", "nhs_number_recorded", "given_name", "family_name", "date_of_birth", "sex", "postcode",
]
# Identity fields a table *may* map (registry.yaml `identity:`; the column may also be
# `required: false`): a house-and-street address line, and another identifier the
# supplier keeps (a local patient number, a social care id shared between services).
# Null where a table does not carry them; the model compares them only if it was trained
# on data that carries them (model.optional_comparisons), so a deployment without them
# scores exactly as before.
OPTIONAL_FIELDS = ["address_line", "other_identifier"]


def person_level_specs() -> list[TableSpec]:
    return [s for s in load_registry().values() if s.person_level]


def read_identity_records(raw_dir: Path) -> pl.DataFrame:
    """Identity fields of every person-level record visible downstream (published only)."""
    frames = []
    for spec in person_level_specs():
        scan = raw_zone.scan_published(raw_dir, spec)
        if scan is None:
            continue
        ident = spec.identity
        exprs = [
            pl.lit(spec.source).alias("source"),
            pl.lit(spec.table).alias("table"),
            (pl.col("practice_code") if spec.source == "gp" else pl.lit(None, pl.Utf8)).alias("practice_code"),
            pl.col(ident["record_id"]).cast(pl.Utf8).alias("record_id"),
        ]
        present = set(scan.collect_schema().names())
        for field in IDENTITY_FIELDS + OPTIONAL_FIELDS:
            dtype = pl.Date if field == "date_of_birth" else pl.Utf8
            mapped = field in ident and (field in IDENTITY_FIELDS or ident[field] in present)
            exprs.append((pl.col(ident[field]).cast(dtype) if mapped else pl.lit(None, dtype)).alias(field))
        frames.append(scan.select(exprs))
    if not frames:
        return pl.DataFrame(schema={c: pl.Utf8 for c in RECORD_KEY})
    return pl.concat(frames, how="vertical").collect()


def _clean_name(col: str) -> pl.Expr:
    # upper case letters only: "O'Neil-Smith " and "oneil smith" compare equal; a hyphen
    # is a word break, so "Smith-Jones" and "Smith Jones" do too
    name = (pl.col(col).str.to_uppercase().str.replace_all(r"[-_/]", " ").str.replace_all(r"[^A-Z ]", "")
            .str.replace_all(r"\s+", " ").str.strip_chars())
    return pl.when(name.str.len_chars() > 0).then(name).otherwise(None)


UK_POSTCODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$"
# Shared placeholders are not addresses: ZZ99 pseudo-postcodes (NHS "no fixed abode" /
# not known, NHS Data Model and Dictionary) and the free-text stand-ins seen in extracts.
# Two records both saying "NFA" have not been shown to live together.
POSTCODE_PLACEHOLDERS = r"^(ZZ99|NFA$|NOFIXEDABODE$|UNKNOWN$|NONE$|NA$|NK$|0+$)"


def normalise_postcode(col: str | pl.Expr) -> pl.Expr:
    """Upper case, one space before the inward code.

    A value that is not shaped like a UK postcode (a foreign or mistyped one) is kept,
    squashed to upper-case letters and digits, and compared as a plain string: two
    records with "2615" agree on it, which is evidence; emptying it would throw that
    away. Placeholders (ZZ99..., NFA) and empty strings are missing.
    """
    expr = pl.col(col) if isinstance(col, str) else col
    squashed = expr.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    formatted = squashed.str.slice(0, squashed.str.len_chars() - 3) + " " + squashed.str.slice(-3)
    return (
        pl.when((squashed.str.len_chars() == 0) | squashed.str.contains(POSTCODE_PLACEHOLDERS)).then(None)
        .when(formatted.str.contains(UK_POSTCODE)).then(formatted)
        .otherwise(squashed)
    )


def is_uk_postcode(col: str | pl.Expr) -> pl.Expr:
    expr = pl.col(col) if isinstance(col, str) else col
    return expr.str.contains(UK_POSTCODE)


# Street words written both ways in address lines (Royal Mail's usual abbreviations).
STREET_WORDS = {"ROAD": "RD", "STREET": "ST", "AVENUE": "AVE", "LANE": "LN", "DRIVE": "DR", "CLOSE": "CL",
                "COURT": "CT", "CRESCENT": "CRES", "GARDENS": "GDNS", "PLACE": "PL", "TERRACE": "TER"}


def clean_address_line(col: str) -> pl.Expr:
    """Upper-case letters, digits and single spaces, street words abbreviated one way:
    "12, Church Road" and "12 CHURCH RD" compare equal."""
    line = (pl.col(col).str.to_uppercase().str.replace_all(r"[^A-Z0-9 ]", " ")
            .str.replace_all(r"\s+", " ").str.strip_chars())
    for word, short in STREET_WORDS.items():
        line = line.str.replace_all(rf"\b{word}\b", short)
    return pl.when(line.str.len_chars() > 0).then(line).otherwise(None)


def clean_other_identifier(col: str) -> pl.Expr:
    """Upper-case letters and digits only; a value of zeros or a placeholder is missing."""
    value = pl.col(col).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    return pl.when((value.str.len_chars() > 0) & ~value.str.contains(r"^(0+|UNKNOWN|NONE|NA|NK)$")).then(value).otherwise(None)


def clean(records: pl.DataFrame) -> pl.DataFrame:
    """Cleaned identity fields plus flags saying what cleaning removed."""
    nhs = pl.col("nhs_number").str.replace_all(r"\s", "")
    # records read before the optional fields existed, or from a caller that has none
    records = records.with_columns(
        (pl.col(f) if f in records.columns else pl.lit(None)).cast(pl.Utf8).alias(f) for f in OPTIONAL_FIELDS)
    out = records.with_columns(
        pl.when(valid_expr(nhs)).then(nhs).otherwise(None).alias("nhs_number_clean"),
        (pl.col("nhs_number").is_not_null() & ~valid_expr(nhs)).alias("nhs_number_invalid"),
        _clean_name("given_name").alias("given_name_clean"),
        _clean_name("family_name").alias("family_name_clean"),
        pl.when(pl.col("sex").str.to_uppercase().is_in(["M", "F"])).then(pl.col("sex").str.to_uppercase()).otherwise(None).alias("sex_clean"),
        normalise_postcode("postcode").alias("postcode_clean"),
    )
    foreign = out.select(
        (pl.col("postcode_clean").is_not_null() & ~is_uk_postcode("postcode_clean")).sum()
    ).item()
    if foreign:
        # counts only: the values are identifiers
        log.warning(
            "%d of %d identity records carry a postcode that is not UK-shaped: kept in normalised "
            "form and compared as a whole string (no sector/district/area levels)", foreign, out.height,
        )
    return out.select(
        *RECORD_KEY,
        pl.col("nhs_number_clean").alias("nhs_number"),
        pl.col("given_name_clean").alias("given_name"),
        pl.col("family_name_clean").alias("family_name"),
        "date_of_birth",
        pl.col("sex_clean").alias("sex"),
        pl.col("postcode_clean").alias("postcode"),
        clean_address_line("address_line").alias("address_line"),
        clean_other_identifier("other_identifier").alias("other_identifier"),
        pl.when(nhs.str.contains(r"^[0-9]{10}$")).then(nhs).otherwise(None).alias("nhs_number_recorded"),
        "nhs_number_invalid",
    )


def profiles(cleaned: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Distinct identity profiles (the linkage input) and the record -> profile map.

    The profile id is a hash of the cleaned fields, so it is the same across refreshes
    for the same identity and Splink's pairs can be cached or compared between runs.
    """
    core = pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null("\x00") for c in PROFILE_FIELDS], separator="|")
    # optional fields join the key only when present, so a profile without them keeps
    # the id it had before they existed (reviewers' pair ids stay valid)
    optional = pl.concat_str([pl.col(c).fill_null("\x00") for c in OPTIONAL_FIELDS], separator="|")
    key = pl.when(pl.any_horizontal(pl.col(OPTIONAL_FIELDS).is_not_null())).then(core + "|" + optional).otherwise(core)
    keyed = cleaned.with_columns(key.hash(seed=0).cast(pl.Utf8).alias("unique_id"))
    record_map = keyed.select(*RECORD_KEY, "unique_id")
    profile_table = (
        keyed.group_by("unique_id", maintain_order=True)
        .agg(
            *[pl.col(c).first() for c in PROFILE_FIELDS + OPTIONAL_FIELDS],
            pl.len().alias("record_count"),
            pl.col("source").unique().sort().str.join(",").alias("sources"),
        )
        .with_columns(_derived_columns())
        .sort("unique_id")
    )
    return profile_table, record_map


def _derived_columns() -> list[pl.Expr]:
    dob = pl.col("date_of_birth")
    day, month = dob.dt.day(), dob.dt.month()
    return [
        dob.dt.strftime("%Y-%m-%d").alias("dob_string"),
        # the date read the other way round (US order): only possible when day <= 12
        pl.when((day <= 12) & (day != month))
        .then(pl.format("{}-{}-{}", dob.dt.year(), day.cast(pl.Utf8).str.zfill(2), month.cast(pl.Utf8).str.zfill(2)))
        .otherwise(None)
        .alias("dob_swapped"),
        dob.dt.year().cast(pl.Utf8).alias("birth_year"),
        pl.concat_str([pl.col("given_name"), pl.col("family_name")], separator=" ").alias("name_concat"),
        # parts of a double-barrelled surname, the given name's initial (records with an
        # initial only), and markers for partly known dates (1 January / the 1st)
        pl.col("family_name").str.split(" ").list.first().alias("family_first"),
        pl.col("family_name").str.split(" ").list.last().alias("family_last"),
        pl.col("given_name").str.slice(0, 1).alias("given_initial"),
        # halves of the NHS number as recorded: a single slip leaves one half intact, so
        # blocking on a half (with the date of birth) pairs a mistyped number with the true one
        pl.col("nhs_number_recorded").str.slice(3, 4).alias("nhs_head"),
        pl.col("nhs_number_recorded").str.slice(7, 3).alias("nhs_tail"),
        dob.dt.strftime("%Y-%m").alias("dob_year_month"),
        # day and month without the year: with the postcode, pairs a mistyped birth year
        # (1959 -> 1999, 1952 -> 1925) with the person's other records at the same address
        dob.dt.strftime("%m-%d").alias("dob_month_day"),
        pl.when((day == 1) & (month == 1)).then(1).otherwise(0).cast(pl.Int32).alias("dob_jan1"),
        pl.when(day == 1).then(1).otherwise(0).cast(pl.Int32).alias("dob_day1"),
        # sector/district/area only for UK-shaped postcodes: a foreign code's first letters
        # mean nothing, and a null never agrees with anything
        pl.when(is_uk_postcode("postcode")).then(pl.col("postcode").str.slice(0, pl.col("postcode").str.len_chars() - 2))
        .alias("postcode_sector"),
        pl.when(is_uk_postcode("postcode")).then(pl.col("postcode").str.extract(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)", 1))
        .alias("postcode_district"),
        pl.when(is_uk_postcode("postcode")).then(pl.col("postcode").str.extract(r"^([A-Z]{1,2})", 1))
        .alias("postcode_area"),
        pl.col("family_name").str.slice(0, 3).alias("family_prefix"),
    ]
