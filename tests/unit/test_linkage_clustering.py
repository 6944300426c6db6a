"""Clustering: connected components, but no bridge between two people's NHS numbers."""

import polars as pl

from dagster_project.linkage.clustering import split_nhs_bridges


def _run(profiles: dict[str, str | None], edges: list[tuple[str, str, float]], components: dict[str, str], threshold=0.9):
    prof = pl.DataFrame({"unique_id": list(profiles), "nhs_number": list(profiles.values())},
                        schema={"unique_id": pl.Utf8, "nhs_number": pl.Utf8})
    e = pl.DataFrame(edges, schema={"unique_id_l": pl.Utf8, "unique_id_r": pl.Utf8, "match_probability": pl.Float64},
                     orient="row")
    clusters = pl.DataFrame({"unique_id": list(components), "cluster_id": list(components.values())})
    out, held = split_nhs_bridges(clusters, prof, e, threshold)
    return dict(out.iter_rows()), held


def test_a_record_without_a_number_joins_the_person_it_matches_best_not_both():
    # a1, b1 hold different valid numbers; x has none and matches both above the threshold
    profiles = {"a1": "9990000018", "a2": None, "b1": "9990000026", "x": None}
    edges = [("a1", "a2", 0.999), ("a2", "x", 0.98), ("b1", "x", 0.95)]
    out, held = _run(profiles, edges, dict.fromkeys(profiles, "a1"))
    assert out["x"] == out["a1"] == out["a2"]
    assert out["b1"] != out["a1"]
    assert held.rows() == [("b1", "x", 0.95)]


def test_the_stronger_link_wins_whatever_the_order_of_the_ids():
    profiles = {"a1": "9990000018", "b1": "9990000026", "x": None}
    edges = [("a1", "x", 0.96), ("b1", "x", 0.995)]
    out, held = _run(profiles, edges, dict.fromkeys(profiles, "a1"))
    assert out["x"] == out["b1"] != out["a1"]
    assert held.height == 1


def test_a_bridge_whose_ends_meet_through_a_valid_number_link_is_not_reported():
    # x (no number) is held from b1 while a1 and b1 are apart; a1-b1 compared two numbers and joins them
    profiles = {"a1": "9990000018", "b1": "9990000026", "x": None}
    edges = [("a1", "x", 0.99), ("b1", "x", 0.98), ("a1", "b1", 0.97)]
    out, held = _run(profiles, edges, dict.fromkeys(profiles, "a1"))
    assert len(set(out.values())) == 1
    assert held.height == 0


def test_a_link_that_compared_two_valid_numbers_is_followed():
    # the pairwise model weighed "different valid numbers" itself (twin-safe rule): its call stands
    profiles = {"a1": "9990000018", "a2": "9990000026", "x": None}
    edges = [("a1", "a2", 0.99), ("a2", "x", 0.97)]
    out, held = _run(profiles, edges, dict.fromkeys(profiles, "a1"))
    assert len(set(out.values())) == 1
    assert held.height == 0


def test_a_reviewers_must_link_is_followed_and_other_components_are_untouched():
    profiles = {"a1": "9990000018", "b1": "9990000026", "x": None, "c1": "9990000034", "c2": None}
    # the reviewer said x is a1 and x is b1 (must-links, probability 1): followed
    edges = [("a1", "x", 1.0), ("b1", "x", 1.0), ("c1", "c2", 0.99)]
    comps = {"a1": "a1", "b1": "a1", "x": "a1", "c1": "c9", "c2": "c9"}
    out, held = _run(profiles, edges, comps)
    assert out["a1"] == out["b1"] == out["x"]
    assert out["c1"] == out["c2"] == "c9"  # one number only: cluster id unchanged
    assert held.height == 0


def test_edges_below_the_threshold_are_not_used():
    profiles = {"a1": "9990000018", "a2": None, "b1": "9990000026"}
    edges = [("a1", "a2", 0.95), ("a2", "b1", 0.5)]
    out, held = _run(profiles, edges, {"a1": "a1", "a2": "a1", "b1": "b1"}, threshold=0.9)
    assert out == {"a1": "a1", "a2": "a1", "b1": "b1"}
    assert held.height == 0
