"""QOF registers over the living registered population, read from a generated ICS's extracts.

An independent Python reading of the same rules the warehouse applies
(dbt/models/intermediate/conditions/int_condition_register.sql, seeds register_rules,
register_clusters, rule_parameters, the code lists), so a generator test can check living
prevalence against England's QOF figures without a dbt build. Only the registers the
generator targets are computed (obesity is a BMI rule, not a generated condition).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "dbt" / "seeds"


def _csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=0)


def _codes() -> pl.DataFrame:
    """cluster_id -> code, with the warehouse's derived CKD stage 1-2 cluster."""
    cols = ["cluster_id", "code"]
    published = _csv(SEEDS / "codelists" / "codelist_codes.csv").select(cols)
    local = _csv(SEEDS / "codelists" / "codelist_local_codes.csv").select(cols)
    stage35 = published.filter(pl.col("cluster_id").is_in(["CKD35_COD", "QOF_CKD_COD"]))["code"]
    ckd12 = published.filter((pl.col("cluster_id") == "CKD15_COD")
                             & ~pl.col("code").is_in(stage35.implode())).with_columns(
        cluster_id=pl.lit("CKD12_DERIVED"))
    return pl.concat([published, local, ckd12]).unique()


def _param(name: str) -> str:
    p = _csv(SEEDS / "parameters" / "rule_parameters.csv")
    return p.filter(pl.col(p.columns[0]) == name)[p.columns[1]].item()


def _months_before(d: dt.date, months: int) -> dt.date:
    m = d.year * 12 + d.month - 1 - months
    return dt.date(m // 12, m % 12 + 1, d.day)


def living_registers(out: Path, extract: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(people, registers) at the extract date.

    people: true_person_id, age (whole years) of every living registered person.
    registers: true_person_id, condition for each person on a register.
    """
    ref = dt.date.fromisoformat(extract)
    gp = out / "landing" / "gp" / extract
    truth = pl.read_parquet(out / "truth" / "people.parquet")
    records = pl.read_parquet(out / "truth" / "person_records.parquet").filter(
        pl.col("source") == "gp").select(
        pl.col("record_id").alias("patient_id"), "practice_code", "true_person_id")
    regs = _csv(gp / "registrations.csv").filter(pl.col("registered_to").is_null())
    patients = _csv(gp / "patients.csv").filter(pl.col("date_of_death").is_null())
    living = (regs.join(patients, on=["patient_id", "practice_code"])
              .join(records, on=["patient_id", "practice_code"])
              .select("true_person_id").unique()
              .join(truth.select("true_person_id", "date_of_birth"), on="true_person_id")
              .with_columns(age=pl.lit(ref).dt.year() - pl.col("date_of_birth").dt.year()
                            - ((pl.lit(ref).dt.month() * 100 + pl.lit(ref).dt.day())
                               < (pl.col("date_of_birth").dt.month() * 100
                                  + pl.col("date_of_birth").dt.day())).cast(pl.Int32))
              .select("true_person_id", "age"))

    rules = _csv(SEEDS / "parameters" / "register_rules.csv").with_columns(
        pl.col("min_age").cast(pl.Int32))
    clusters = _csv(SEEDS / "parameters" / "register_clusters.csv")
    coded = clusters.join(_codes(), on="cluster_id").select("condition", "role", "code")
    events = (_csv(gp / "events.csv").select("patient_id", "practice_code", "event_date",
                                             pl.col("snomed_code").alias("code"))
              .join(records, on=["patient_id", "practice_code"])
              .join(coded, on="code")
              .with_columns(pl.col("event_date").str.to_date()))
    history = events.group_by("true_person_id", "condition").agg(
        first=pl.col("event_date").filter(pl.col("role") == "diagnosis").min(),
        latest=pl.col("event_date").filter(pl.col("role") == "diagnosis").max(),
        resolved=pl.col("event_date").filter(pl.col("role") == "resolved").max())
    on = (history.join(living, on="true_person_id").join(rules, on="condition")
          .filter(pl.col("latest").is_not_null()
                  & (pl.col("resolved").is_null() | (pl.col("latest") > pl.col("resolved")))
                  & (pl.col("age") >= pl.col("min_age"))))

    asthma_from = _months_before(ref, int(_param("asthma_treatment_lookback_months")))
    asthma_drug = _csv(SEEDS / "codelists" / "codelist_codes.csv").filter(
        pl.col("cluster_id") == "ASTRXM1_COD")["code"]
    treated = (_csv(gp / "medications.csv")
               .with_columns(pl.col("issue_date").str.to_date())
               .filter(pl.col("dmd_code").is_in(asthma_drug.implode())
                       & (pl.col("issue_date") > asthma_from) & (pl.col("issue_date") <= ref))
               .join(records, on=["patient_id", "practice_code"])["true_person_id"])
    dep_from = dt.date.fromisoformat(_param("depression_diagnosed_on_or_after"))
    can_from = dt.date.fromisoformat(_param("cancer_diagnosed_on_or_after"))
    rule = pl.col("rule")
    on = on.filter(
        (rule == "generic")
        | ((rule == "depression") & (pl.col("latest") >= dep_from))
        | ((rule == "cancer") & (pl.col("first") >= can_from))
        | ((rule == "asthma") & pl.col("true_person_id").is_in(treated.implode()))
        | (rule == "ndh"))
    diabetic = on.filter(pl.col("condition") == "diabetes")["true_person_id"]
    on = on.filter((rule != "ndh") | ~pl.col("true_person_id").is_in(diabetic.implode()))
    return living, on.select("true_person_id", "condition")


def prevalence(people: pl.DataFrame, registers: pl.DataFrame,
               denominators: dict[str, int]) -> dict[str, float]:
    """Register size over the living registered people aged at least the QOF denominator age."""
    out = {}
    for condition, min_age in denominators.items():
        eligible = people.filter(pl.col("age") >= min_age)
        n = registers.filter(pl.col("condition") == condition).join(
            eligible, on="true_person_id").height
        out[condition] = n / max(eligible.height, 1)
    return out
