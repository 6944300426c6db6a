"""Clustering: connected components, but no bridge between two people's NHS numbers."""

import random

import polars as pl

from dagster_project.linkage.clustering import connected_components, split_nhs_bridges

EDGES = {"unique_id_l": pl.Utf8, "unique_id_r": pl.Utf8, "match_probability": pl.Float64}


def _splink_components(nodes: list[str], edges: pl.DataFrame, threshold: float) -> dict[str, str]:
    """The reference: Splink's own connected components on DuckDB (what scoring used before)."""
    import duckdb
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    result = cluster_pairwise_predictions_at_threshold(
        pl.DataFrame({"unique_id": nodes}).to_arrow(), edges.to_arrow(), DuckDBAPI(connection=duckdb.connect()),
        node_id_column_name="unique_id", edge_id_column_name_left="unique_id_l",
        edge_id_column_name_right="unique_id_r", threshold_match_probability=threshold,
    )
    return dict(result.as_duckdbpyrelation().select("unique_id", "cluster_id").fetchall())


def test_components_are_splinks_on_chains_isolated_nodes_and_the_threshold_edge():
    # ids compare as strings ("10" < "9"), as in Splink's SQL min
    nodes = ["9", "10", "11", "3", "4", "5", "6", "7", "8", "alone", "x"]
    edges = pl.DataFrame([
        ("9", "10", 0.99), ("11", "9", 0.96),          # chain 9-10-11, smallest id "10"
        ("3", "4", 0.95), ("4", "5", 0.97), ("5", "6", 0.999),  # chain; 0.95 is exactly the threshold
        ("6", "7", 0.9499), ("7", "8", 0.2),           # below the threshold: not joined
        ("x", "x", 0.99),                              # a self-loop changes nothing
    ], schema=EDGES, orient="row")
    ours = dict(connected_components(pl.Series(nodes), edges, 0.95).iter_rows())
    assert ours == _splink_components(nodes, edges, 0.95)
    assert ours["11"] == ours["9"] == "10" and ours["6"] == "3" and ours["7"] == "7" and ours["alone"] == "alone"


def test_components_are_splinks_on_a_random_graph():
    rng = random.Random(7)
    nodes = [str(rng.randrange(10**12)) for _ in range(600)]
    edges = pl.DataFrame([(rng.choice(nodes), rng.choice(nodes), rng.random()) for _ in range(500)],
                         schema=EDGES, orient="row")
    ours = dict(connected_components(pl.Series(nodes), edges, 0.7).iter_rows())
    theirs = _splink_components(nodes, edges, 0.7)
    assert ours == theirs
    assert 10 < len(set(ours.values())) < len(nodes)  # the graph has non-trivial components


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
