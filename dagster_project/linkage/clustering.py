"""People from scored pairs: connected components, then no bridge between two NHS numbers.

Connected components at the threshold join everything reachable. That is right for a
chain of good links, wrong for a *bridge*: a record with no valid NHS number (a hospital
record without name, say) that scores above the threshold with two people who hold
different valid NHS numbers. Its pair scores never saw the conflict (it has no number to
disagree with), so transitivity silently merges two registered people. On the synthetic
ICS these were the residual false merges: a name-less, number-less acute record whose date
of birth is one character off another person's at the same postcode.

So a component holding more than one valid NHS number is rebuilt greedily: its edges are
taken strongest first and two groups whose NHS numbers are disjoint are joined only if the
edge itself compared two valid numbers (then the pairwise model has weighed "different
valid numbers", with its twin-safe rule); a bridge edge is held apart and, if its two ends
stay apart, reported (the review queue shows it). The bridging record joins the person it
matches best. Components with at most one number are
untouched, so the cost is in the rare conflicting components only.

Connected components themselves are solved with scipy.sparse.csgraph (a linear-time graph
search in C) rather than Splink's iterative SQL: same components and same cluster ids (the
smallest unique_id of the component, edges with probability >= threshold), but 2.2 s
instead of 10-11 s for 3.1M profiles and 3.1M edges at 1.1M people
(docs/linkage_performance.md).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as _scipy_components

EDGE_SCHEMA = {"unique_id_l": pl.Utf8, "unique_id_r": pl.Utf8, "match_probability": pl.Float64}
# reviewer must-links come as probability 1: always joined
MUST_LINK = 1.0


def connected_components(nodes: pl.Series, edges: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """unique_id, cluster_id: connected components of `nodes` over the edges with
    match_probability >= threshold, as Splink's cluster_pairwise_predictions_at_threshold
    gives them (cluster_id = the smallest unique_id of the component; a node without such
    an edge is its own cluster). Edges naming an id outside `nodes` are ignored."""
    ids = nodes.unique().sort()
    n = ids.len()
    index = pl.DataFrame({"unique_id": ids, "i": pl.int_range(n, eager=True, dtype=pl.Int64)})
    kept = (edges.lazy().filter(pl.col("match_probability") >= threshold)
            .join(index.lazy().rename({"unique_id": "unique_id_l", "i": "a"}), on="unique_id_l")
            .join(index.lazy().rename({"unique_id": "unique_id_r", "i": "b"}), on="unique_id_r")
            .select("a", "b").collect())
    graph = coo_matrix((np.ones(kept.height, dtype=np.int8), (kept["a"].to_numpy(), kept["b"].to_numpy())), shape=(n, n))
    _, labels = _scipy_components(graph, directed=False)
    # ids are sorted, so a component's first index is its smallest id
    _, first = np.unique(labels, return_index=True)
    representative = first[labels]
    return pl.DataFrame({"unique_id": ids, "cluster_id": ids.gather(representative)})


def split_nhs_bridges(
    clusters: pl.DataFrame, profiles: pl.DataFrame, edges: pl.DataFrame, threshold: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rebuild components that hold two or more valid NHS numbers without bridge edges.

    clusters: unique_id, cluster_id (connected components at `threshold` over `edges`);
    profiles: unique_id, nhs_number (valid numbers only, null otherwise);
    edges: unique_id_l, unique_id_r, match_probability (any; those >= threshold are used).
    Returns the clusters (cluster_id = smallest unique_id of the new group where a
    component was split, unchanged elsewhere) and the bridge edges held apart whose two
    ends ended in different people."""
    nhs = profiles.select("unique_id", "nhs_number")
    numbered = clusters.join(nhs, on="unique_id", how="left")
    conflicted = (numbered.drop_nulls("nhs_number").group_by("cluster_id")
                  .agg(pl.col("nhs_number").n_unique().alias("n")).filter(pl.col("n") > 1)["cluster_id"])
    if conflicted.len() == 0:
        return clusters, pl.DataFrame(schema=EDGE_SCHEMA)
    members = numbered.filter(pl.col("cluster_id").is_in(conflicted.implode()))
    ids = members["unique_id"]
    inner = (edges.filter((pl.col("match_probability") >= threshold)
                          & pl.col("unique_id_l").is_in(ids.implode()) & pl.col("unique_id_r").is_in(ids.implode()))
             .select("unique_id_l", "unique_id_r", "match_probability")
             .sort(["match_probability", "unique_id_l", "unique_id_r"], descending=[True, False, False]))
    number = dict(zip(members["unique_id"].to_list(), members["nhs_number"].to_list(), strict=True))
    parent = {u: u for u in number}
    numbers = {u: ({n} if n is not None else set()) for u, n in number.items()}

    def root(u: str) -> str:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    held = []
    for left, right, p in inner.iter_rows():
        a, b = root(left), root(right)
        if a == b:
            continue
        if numbers[a] and numbers[b] and numbers[a].isdisjoint(numbers[b]) and p < MUST_LINK \
                and (number[left] is None or number[right] is None):
            held.append((left, right, p))
            continue
        if a > b:
            a, b = b, a
        parent[b] = a
        numbers[a] |= numbers.pop(b)
    # a bridge whose two ends met later through a link that compared two valid numbers is
    # no decision; the rest are (queued for clerical review)
    held = [(left, right, p) for left, right, p in held if root(left) != root(right)]
    groups = pl.DataFrame({"unique_id": list(number), "root": [root(u) for u in number]}, schema={"unique_id": pl.Utf8, "root": pl.Utf8})
    groups = groups.with_columns(pl.col("unique_id").min().over("root").alias("new_cluster")).select("unique_id", "new_cluster")
    out = clusters.join(groups, on="unique_id", how="left").with_columns(
        pl.coalesce("new_cluster", "cluster_id").alias("cluster_id")).select(clusters.columns)
    return out, pl.DataFrame(held, schema=EDGE_SCHEMA, orient="row")
