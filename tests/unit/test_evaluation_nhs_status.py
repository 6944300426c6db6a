"""Linkage accuracy split by whether the true person has an NHS number (docs/scale.md)."""

import polars as pl

from dagster_project.linkage.evaluation import pairwise_metrics_by_nhs_status


def _records(rows):
    return pl.DataFrame(rows, schema=["source", "table", "practice_code", "record_id", "x"], orient="row")


def test_split_by_nhs_status():
    # P1 (has a number): 3 records, all linked. P2 (untraced): 2 records, left apart.
    # P3 (untraced): 2 records, one wrongly merged into P1's person
    truth = _records([("gp", "patients", "A", "1", "P1"), ("acute", "apc", None, "2", "P1"),
                      ("acute", "opa", None, "3", "P1"), ("gp", "patients", "A", "4", "P2"),
                      ("acute", "apc", None, "5", "P2"), ("gp", "patients", "B", "6", "P3"),
                      ("acute", "opa", None, "7", "P3")]).rename({"x": "true_person_id"})
    assigned = truth.with_columns(person_id=pl.Series(["a", "a", "a", "b", "c", "d", "a"])).drop("true_person_id")
    people = pl.DataFrame({"true_person_id": ["P1", "P2", "P3"], "nhs_number": ["9990000018", None, None]})
    out = pairwise_metrics_by_nhs_status(assigned, truth, people)
    # with: 3 true pairs, all found, no wrong pair inside the group
    assert out["with_nhs_number"]["recall"] == 1.0 and out["with_nhs_number"]["precision"] == 1.0
    assert out["with_nhs_number"]["people_true"] == 1
    # without: 2 true pairs (P2, P3), none found
    assert out["without_nhs_number"]["true_pairs"] == 2 and out["without_nhs_number"]["recall"] == 0.0
    # all: 5 true pairs, 3 found; 6 predicted pairs (a has 4 records), so precision 0.5
    assert out["all"]["true_pairs"] == 5 and out["all"]["correct_pairs"] == 3
    assert out["all"]["precision"] == 0.5


def test_everyone_traced_has_no_untraced_group():
    truth = _records([("gp", "patients", "A", "1", "P1")]).rename({"x": "true_person_id"})
    assigned = truth.with_columns(person_id=pl.lit("a")).drop("true_person_id")
    out = pairwise_metrics_by_nhs_status(assigned, truth, pl.DataFrame({"true_person_id": ["P1"],
                                                                       "nhs_number": ["9990000018"]}))
    assert set(out) == {"all", "with_nhs_number"}
