"""Linkage accuracy against a ground truth, and the NHS-number-only baseline.

Pairwise measures over records: a pair of records is predicted linked when both have the
same person id, truly linked when both belong to the same true person. Counted exactly
from the contingency table of (predicted person, true person), never by listing pairs.
"""

from __future__ import annotations

import polars as pl

KEY = ["source", "table", "practice_code", "record_id"]


def _pairs(counts: pl.Expr) -> pl.Expr:
    return (counts * (counts - 1) / 2).sum()


def pairwise_metrics(assigned: pl.DataFrame, truth: pl.DataFrame, person_col: str = "person_id") -> dict:
    """Precision, recall and F1 of record pairs; `assigned` has KEY + person_col."""
    joined = assigned.select(*KEY, pl.col(person_col).alias("_pred")).join(
        truth.select(*KEY, "true_person_id"), on=KEY, how="inner", nulls_equal=True
    )
    predicted = joined.group_by("_pred").len().select(_pairs(pl.col("len"))).item()
    actual = joined.group_by("true_person_id").len().select(_pairs(pl.col("len"))).item()
    correct = joined.group_by("_pred", "true_person_id").len().select(_pairs(pl.col("len"))).item()
    precision = correct / predicted if predicted else 1.0
    recall = correct / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "records": joined.height,
        "people_predicted": joined["_pred"].n_unique(),
        "people_true": joined["true_person_id"].n_unique(),
        "predicted_pairs": int(predicted),
        "true_pairs": int(actual),
        "correct_pairs": int(correct),
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "f1": round(f1, 5),
    }


def recall_for(assigned: pl.DataFrame, truth: pl.DataFrame, mask: pl.DataFrame, person_col: str = "person_id") -> float:
    """Recall over true pairs that involve at least one record in `mask` (KEY columns).

    Used for "records without a valid NHS number": of the true links that such a record
    has, how many did the method find.
    """
    joined = assigned.select(*KEY, pl.col(person_col).alias("_pred")).join(
        truth.select(*KEY, "true_person_id"), on=KEY, nulls_equal=True
    ).with_columns(
        pl.struct(KEY).is_in(mask.select(pl.struct(KEY)).to_series()).alias("_focus")
    )
    # true pairs touching a focus record = all pairs - pairs among non-focus records
    def pairs_where(frame: pl.DataFrame, by: list[str]) -> int:
        return int(frame.group_by(by).len().select(_pairs(pl.col("len"))).item() or 0)

    rest = joined.filter(~pl.col("_focus"))
    true_touching = pairs_where(joined, ["true_person_id"]) - pairs_where(rest, ["true_person_id"])
    found_touching = pairs_where(joined, ["true_person_id", "_pred"]) - pairs_where(rest, ["true_person_id", "_pred"])
    return round(found_touching / true_touching, 5) if true_touching else 1.0


def nhs_number_baseline(cleaned: pl.DataFrame) -> pl.DataFrame:
    """What most ICS pipelines do: records with the same valid NHS number are one person;
    every record without one stands alone."""
    return cleaned.select(
        *KEY,
        pl.when(pl.col("nhs_number").is_not_null())
        .then(pl.lit("nhs:") + pl.col("nhs_number"))
        .otherwise(pl.concat_str([pl.lit("rec:"), *[pl.col(c).fill_null("") for c in KEY]], separator="|"))
        .alias("person_id"),
    )


def agreement(a: pl.DataFrame, b: pl.DataFrame, person_col: str = "person_id") -> dict:
    """How far two linkages of the same records agree: pairs linked by both over pairs
    linked by either (1.0 = identical clusterings). Used to compare backends."""
    joined = a.select(*KEY, pl.col(person_col).alias("_a")).join(
        b.select(*KEY, pl.col(person_col).alias("_b")), on=KEY, nulls_equal=True
    )
    in_a = joined.group_by("_a").len().select(_pairs(pl.col("len"))).item()
    in_b = joined.group_by("_b").len().select(_pairs(pl.col("len"))).item()
    both = joined.group_by("_a", "_b").len().select(_pairs(pl.col("len"))).item()
    either = in_a + in_b - both
    return {"pairs_a": int(in_a), "pairs_b": int(in_b), "pairs_both": int(both),
            "agreement": round(both / either, 5) if either else 1.0}


LINK_FIELDS = (("nhs_number",), ("given_name", "family_name"), ("date_of_birth",), ("postcode",))


def linkable_records(cleaned: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """KEY of records sharing at least one identifier value (valid NHS number, full name,
    date of birth or postcode) with another record of the same true person. The rest
    carry nothing in common with the person's other records: no method can link them
    without outside knowledge, so recall is reported on the two groups separately."""
    joined = cleaned.join(truth.select(*KEY, "true_person_id"), on=KEY, nulls_equal=True)
    shared = pl.lit(False)
    for fields in LINK_FIELDS:
        present = pl.all_horizontal([pl.col(f).is_not_null() for f in fields])
        count = pl.when(present).then(pl.len().over("true_person_id", *fields)).otherwise(0)
        shared = shared | (count > 1)
    return joined.filter(shared).select(KEY)


def recall_among(assigned: pl.DataFrame, truth: pl.DataFrame, mask: pl.DataFrame, person_col: str = "person_id") -> float:
    """Recall over true pairs whose two records are both in `mask` (KEY columns)."""
    inside = assigned.join(mask, on=KEY, how="semi", nulls_equal=True)
    return pairwise_metrics(inside, truth, person_col)["recall"]


def pairwise_metrics_by_nhs_status(assigned: pl.DataFrame, truth: pl.DataFrame, people: pl.DataFrame,
                                   person_col: str = "person_id") -> dict:
    """Pairwise metrics over all records, then over the records of people who have a valid
    NHS number in the truth and of people who have none (beyond the 909,091 numbers of the
    999 range the generator leaves people untraced: docs/scale.md). Each group's predicted
    pairs are those among its own records, so a group's precision counts wrong links made
    inside it; a link across the groups is wrong and counted in "all" only."""
    traced = people.filter(pl.col("nhs_number").is_not_null()).select("true_person_id")
    out = {"all": pairwise_metrics(assigned, truth, person_col)}
    for name, how in (("with_nhs_number", "semi"), ("without_nhs_number", "anti")):
        records = truth.join(traced, on="true_person_id", how=how)
        if records.height:
            out[name] = pairwise_metrics(
                assigned.join(records.select(KEY), on=KEY, how="semi", nulls_equal=True), records, person_col)
    return out
