"""Which true pairs of identity profiles no blocking rule compares (recall analysis).

    python benchmarks/linkage_recall_analysis.py DATA_DIR [--extra-rule "SQL" ...]

DATA_DIR holds a synthetic ICS already ingested and prepared (identity/profiles.parquet,
identity/record_profiles.parquet, truth/person_records.parquet). A pair never compared can
never be linked directly, so the blocking rules bound recall. Prints, for the true pairs
that no rule covers, the truth flags of their records (what kind of error hides them),
and for each candidate rule how many of those pairs it would recover and at what cost
(comparisons it adds). Used to choose `model.blocking_rules_for_prediction()`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dagster_project.linkage.model import blocking_rules_for_prediction  # noqa: E402

KEY = ["source", "table", "practice_code", "record_id"]


def rule_sql(rule) -> str:
    return rule.get_blocking_rule("duckdb").blocking_rule_sql if hasattr(rule, "get_blocking_rule") else str(rule)


def true_profile_pairs(data_dir: Path) -> pl.DataFrame:
    rp = pl.read_parquet(data_dir / "identity" / "record_profiles.parquet")
    truth = pl.read_parquet(data_dir / "truth" / "person_records.parquet")
    flags = [c for c in truth.columns if truth[c].dtype == pl.Boolean]
    prof = (rp.join(truth, on=KEY, nulls_equal=True)
            .with_columns(pl.col("nhs_number_status").is_in(["missing", "invalid", "wrong"]).alias("nhs_not_ok"))
            .group_by("unique_id", "true_person_id")
            .agg([pl.col(c).any() for c in [*flags, "nhs_not_ok"]]))
    pairs = prof.join(prof, on="true_person_id", suffix="_r").filter(pl.col("unique_id") < pl.col("unique_id_r"))
    return pairs


def covered(con, rules: list[str]) -> pl.DataFrame:
    parts = [f"select l.unique_id as a, r.unique_id as b from p l join p r on ({r}) and l.unique_id < r.unique_id"
             for r in rules]
    return con.sql(" union ".join(parts)).pl()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--extra-rule", action="append", default=[])
    args = parser.parse_args()
    profiles = pl.read_parquet(args.data_dir / "identity" / "profiles.parquet")
    con = duckdb.connect()
    con.register("p", profiles.to_arrow())
    rules = [rule_sql(r) for r in blocking_rules_for_prediction()]
    pairs = true_profile_pairs(args.data_dir)
    got = covered(con, rules).with_columns(pl.lit(True).alias("hit"))
    joined = pairs.join(got, left_on=["unique_id", "unique_id_r"], right_on=["a", "b"], how="left")
    missed = joined.filter(pl.col("hit").is_null())
    print(f"true profile pairs {pairs.height:,}; covered by the rules {pairs.height - missed.height:,}; "
          f"missed {missed.height:,}")
    flag_cols = [c for c in pairs.columns if not c.endswith("_r") and c not in ("unique_id", "true_person_id")]
    shares = missed.select([(pl.col(c) | pl.col(f"{c}_r")).sum().alias(c) for c in flag_cols])
    print("missed pairs where either side has the flag:")
    for c, v in zip(shares.columns, shares.row(0)):
        if v:
            print(f"  {c}: {v}")
    profile_cols = ["unique_id", "given_name", "nhs_number", "postcode", "dob_string", "sex"]
    m = missed.select("unique_id", "unique_id_r").join(
        profiles.select(profile_cols), on="unique_id").join(
        profiles.select(profile_cols), left_on="unique_id_r", right_on="unique_id", suffix="_r")
    print("missed pairs by what they share:", m.select(
        (pl.col("given_name").is_null() | pl.col("given_name_r").is_null()).sum().alias("one_nameless"),
        (pl.col("nhs_number").is_null() | pl.col("nhs_number_r").is_null()).sum().alias("one_no_valid_nhs"),
        (pl.col("postcode") == pl.col("postcode_r")).sum().alias("same_postcode"),
        (pl.col("dob_string") == pl.col("dob_string_r")).sum().alias("same_dob"),
    ).row(0, named=True))
    for extra in args.extra_rule:
        hit = covered(con, [extra]).with_columns(pl.lit(True).alias("hit2"))
        rec = missed.join(hit, left_on=["unique_id", "unique_id_r"], right_on=["a", "b"], how="inner").height
        cost = con.sql(f"select count(*) from p l join p r on ({extra}) and l.unique_id < r.unique_id").fetchone()[0]
        print(f"candidate {extra!r}: recovers {rec} missed pairs, compares {cost:,} pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
