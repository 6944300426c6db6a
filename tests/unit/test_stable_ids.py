"""Person ids stay put across refreshes; merges and splits are logged."""

import re

import polars as pl

from dagster_project.linkage.stable_ids import assign_stable_ids

OPAQUE = re.compile(r"^P[0-9a-f]{16}$")


def _records(pairs):  # [(record_id, cluster_or_person)]
    return pl.DataFrame({
        "source": ["gp"] * len(pairs), "table": ["patients"] * len(pairs),
        "practice_code": ["D82001"] * len(pairs), "record_id": [r for r, _ in pairs],
        "cluster_id": [c for _, c in pairs],
    })


def _index(pairs):
    return _records(pairs).rename({"cluster_id": "person_id"})


def _ids(assigned):
    return dict(zip(assigned["record_id"], assigned["person_id"]))


def test_first_run_issues_opaque_ids():
    assigned, changes = assign_stable_ids(_records([("a", 7), ("b", 7), ("c", 3)]), None)
    ids = _ids(assigned)
    assert ids["a"] == ids["b"] != ids["c"]
    assert all(OPAQUE.match(i) for i in ids.values())
    assert changes["event"].to_list() == ["created", "created"]


def test_ids_are_not_sequential_or_enumerable():
    records = _records([(f"r{i}", i) for i in range(2000)])
    ids = sorted(assign_stable_ids(records, None)[0]["person_id"].to_list())
    assert len(set(ids)) == 2000 and all(OPAQUE.match(i) for i in ids)
    numbers = sorted(int(i[1:], 16) for i in ids)
    gaps = {b - a for a, b in zip(numbers, numbers[1:])}
    assert len(gaps) > 1900  # no constant step: knowing one id tells nothing of the next
    again = sorted(assign_stable_ids(records, None)[0]["person_id"].to_list())
    assert not set(ids) & set(again)  # not derived from the records: cannot be recomputed


def test_unchanged_and_extended_people_keep_their_ids():
    previous = _index([("a", "P0000000001"), ("b", "P0000000001"), ("c", "P0000000002")])
    # cluster numbers are arbitrary each run; a new record d joins a's person
    current = _records([("a", 40), ("b", 40), ("d", 40), ("c", 12), ("e", 99)])
    assigned, changes = assign_stable_ids(current, previous)
    ids = _ids(assigned)
    assert ids["a"] == ids["b"] == ids["d"] == "P0000000001"
    assert ids["c"] == "P0000000002"
    assert OPAQUE.match(ids["e"]) and ids["e"] not in {"P0000000001", "P0000000002"}  # new person
    assert changes.filter(pl.col("event") != "created").height == 0


def test_merge_keeps_the_larger_id_and_logs_the_other():
    previous = _index([("a", "P0000000001"), ("b", "P0000000001"), ("c", "P0000000002")])
    assigned, changes = assign_stable_ids(_records([("a", 1), ("b", 1), ("c", 1)]), previous)
    assert set(_ids(assigned).values()) == {"P0000000001"}
    merged = changes.filter(pl.col("event") == "merged").row(0, named=True)
    assert merged["person_id"] == "P0000000001" and merged["other_person_id"] == "P0000000002"


def test_split_keeps_the_id_with_the_majority_and_logs_the_move():
    previous = _index([("a", "P0000000005"), ("b", "P0000000005"), ("c", "P0000000005")])
    assigned, changes = assign_stable_ids(_records([("a", 1), ("b", 1), ("c", 2)]), previous)
    ids = _ids(assigned)
    assert ids["a"] == ids["b"] == "P0000000005"
    assert OPAQUE.match(ids["c"])
    split = changes.filter(pl.col("event") == "split").row(0, named=True)
    assert split["person_id"] == ids["c"] and split["other_person_id"] == "P0000000005"


def test_retired_ids_are_logged_and_never_reissued():
    previous = _index([("a", "P0000000001"), ("z", "P0000000009")])
    assigned, changes = assign_stable_ids(_records([("a", 1), ("n", 2)]), previous)
    assert _ids(assigned)["n"] not in {"P0000000001", "P0000000009"}
    assert changes.filter(pl.col("event") == "retired")["person_id"].to_list() == ["P0000000009"]


def test_new_ids_are_the_urandom_bytes_in_hex_and_a_clash_is_drawn_again(monkeypatch):
    from dagster_project.linkage import stable_ids

    draws = iter([bytes.fromhex("00112233445566ff") * 2 + bytes.fromhex("0123456789abcdef"),
                  bytes.fromhex("fedcba9876543210") * 2, bytes.fromhex("a0a1a2a3a4a5a6a7")])
    monkeypatch.setattr(stable_ids.os, "urandom", lambda n: next(draws)[:n])
    # a repeat within a batch and an id issued before are dropped and drawn again
    ids = stable_ids.new_ids(3, {"P0123456789abcdef"})
    assert ids.to_list() == ["P00112233445566ff", "Pfedcba9876543210", "Pa0a1a2a3a4a5a6a7"]
    assert stable_ids.new_ids(0, set()).len() == 0
