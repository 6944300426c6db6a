"""Stable person ids across refreshes, and the change log of merges and splits.

Clustering gives anonymous cluster numbers that change every run. A person must keep the
id they had last month when their records are unchanged or extended, so each new cluster
inherits the previous id that most of its records carried:

- a cluster whose records all carried one previous id keeps it (the usual case);
- a cluster holding records of several previous people (a *merge*) keeps the id with the
  most records (ties: the smaller id); the others are retired into it;
- a previous person whose records are now in several clusters (a *split*) stays with the
  cluster holding most of them; the other clusters get new ids;
- a cluster of only new records gets a new id.

Ids are opaque: `P` + 16 random hex digits (64 bits from the operating system's CSPRNG),
never reused (a new id is drawn again if it was ever issued). Sequential ids made every
pseudo id reversible by anyone holding the key: hash P0000000001, P0000000002, ... and
compare (0.15 s for a whole ICS). Random ids carry no order and cannot be enumerated.
"""

from __future__ import annotations

import os

import numpy as np
import polars as pl
import pyarrow as pa

KEY = ["source", "table", "practice_code", "record_id"]
ID_PREFIX = "P"
ID_HEX = 16


def issued_ids(previous: pl.DataFrame | None, changes: pl.DataFrame | None = None) -> set[str]:
    """Every person id ever issued (current, and merged/retired ones in the change log)."""
    ids: set[str] = set()
    for frame, col in ((previous, "person_id"), (changes, "person_id"), (changes, "other_person_id")):
        if frame is not None and frame.height and col in frame.columns:
            ids.update(frame[col].drop_nulls().to_list())
    return ids


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _random_ids(n: int) -> pl.Series:
    """n ids `P` + 16 hex digits from one os.urandom block (the CSPRNG secrets.token_hex
    reads), built as one Arrow string buffer: calling secrets.token_hex once per person
    took 3.5 s of a first build at 1.1M people. Distinct within the batch."""
    raw = np.frombuffer(os.urandom(n * ID_HEX // 2), dtype=np.uint8).reshape(n, ID_HEX // 2)
    # one opaque value per id (any ID_HEX, not only the 8 bytes a uint64 view would need)
    _, first = np.unique(raw.view(np.dtype((np.void, ID_HEX // 2))).ravel(), return_index=True)
    if len(first) < n:  # a repeat within the batch: ~1 in 10^7 at 1.1M
        raw = raw[np.sort(first)]
    n = raw.shape[0]
    chars = np.empty((n, 1 + ID_HEX), dtype=np.uint8)
    chars[:, 0] = ord(ID_PREFIX)
    chars[:, 1::2] = _HEX_DIGITS[raw >> 4]
    chars[:, 2::2] = _HEX_DIGITS[raw & 0x0F]
    offsets = np.arange(0, (n + 1) * (1 + ID_HEX), 1 + ID_HEX, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.ravel()))
    return pl.Series("person_id", pl.from_arrow(array), dtype=pl.Utf8)


def new_ids(n: int, taken: set[str]) -> pl.Series:
    """n fresh opaque ids, none of them in `taken` nor repeated (a clash is drawn again)."""
    out = pl.Series("person_id", [], dtype=pl.Utf8)
    seen = pl.Series("person_id", list(taken), dtype=pl.Utf8)
    while out.len() < n:
        batch = _random_ids(n - out.len())
        batch = batch.filter(~batch.is_in(seen.implode()))
        out = pl.concat([out, batch])
        seen = pl.concat([seen, batch])
    return out


def assign_stable_ids(
    current: pl.DataFrame,
    previous: pl.DataFrame | None,
    changes: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`current` (KEY + cluster_id) -> (KEY + person_id, change events of this refresh).
    Other columns of `current` (a profile id, say) are returned beside the person id.

    A cluster holding exactly the records of one previous person (most people, most months)
    keeps that person's id with no event, as the rules below give it; it is settled first with
    one join and two group-bys, so the claims, first keys and change log are worked out only
    for the clusters that changed (at 1.1M people they took ~30 s over everyone)."""
    if previous is None or previous.height == 0:
        return _assign(current, previous, changes)
    joined = current.join(previous.select(*KEY, pl.col("person_id").alias("prev_id")), on=KEY, how="left",
                          nulls_equal=True)
    sizes = previous.group_by("person_id").len().rename({"person_id": "prev_id", "len": "prev_n"})
    settled = (joined.group_by("cluster_id")
               .agg(pl.len().alias("n"), pl.col("prev_id").null_count().alias("nulls"),
                    pl.col("prev_id").n_unique().alias("k"), pl.col("prev_id").first())
               .filter((pl.col("nulls") == 0) & (pl.col("k") == 1))
               .join(sizes, on="prev_id").filter(pl.col("n") == pl.col("prev_n"))
               .select("cluster_id", "prev_id"))
    if settled.height == 0:
        return _assign(current, previous, changes)
    unchanged = joined.join(settled.select("cluster_id"), on="cluster_id", how="semi")
    assigned, events = _assign(
        current.join(settled.select("cluster_id"), on="cluster_id", how="anti"),
        previous.join(settled.select(pl.col("prev_id").alias("person_id")), on="person_id", how="anti"),
        changes, taken=issued_ids(previous, changes))
    carried = [c for c in current.columns if c not in (*KEY, "cluster_id")]
    return pl.concat([unchanged.select(*KEY, *carried, pl.col("prev_id").alias("person_id")), assigned]), events


def _assign(
    current: pl.DataFrame,
    previous: pl.DataFrame | None,
    changes: pl.DataFrame | None = None,
    taken: set[str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    if previous is None or previous.height == 0:
        previous = pl.DataFrame(schema={**{k: pl.Utf8 for k in KEY}, "person_id": pl.Utf8})
    taken = issued_ids(previous, changes) if taken is None else taken
    joined = current.join(
        previous.select(*KEY, pl.col("person_id").alias("prev_id")), on=KEY, how="left", nulls_equal=True
    )
    claims = (
        joined.filter(pl.col("prev_id").is_not_null())
        .group_by("cluster_id", "prev_id")
        .len()
        .sort(["len", "prev_id", "cluster_id"], descending=[True, False, False])
    )
    # Greedy over claims, strongest first: each cluster and each previous id used once.
    # Uncontested claims (the vast majority) are settled without the loop.
    per_cluster = claims.group_by("cluster_id").len().rename({"len": "n_c"})
    per_prev = claims.group_by("prev_id").len().rename({"len": "n_p"})
    claims = claims.join(per_cluster, on="cluster_id").join(per_prev, on="prev_id")
    simple = claims.filter((pl.col("n_c") == 1) & (pl.col("n_p") == 1)).select("cluster_id", "prev_id")
    contested = claims.filter((pl.col("n_c") > 1) | (pl.col("n_p") > 1)).sort(
        ["len", "prev_id", "cluster_id"], descending=[True, False, False]
    )
    taken_c: set = set()
    taken_p: set = set()
    won = []
    for cluster_id, prev_id in contested.select("cluster_id", "prev_id").iter_rows():
        if cluster_id in taken_c or prev_id in taken_p:
            continue
        taken_c.add(cluster_id)
        taken_p.add(prev_id)
        won.append((cluster_id, prev_id))
    kept = pl.concat(
        [simple, pl.DataFrame(won, schema={"cluster_id": simple.schema["cluster_id"], "prev_id": pl.Utf8}, orient="row")]
    )
    clusters = (
        joined.group_by("cluster_id")
        .agg(pl.min_horizontal(pl.concat_str([pl.col(k).fill_null("") for k in KEY], separator="|")).min().alias("_first"))
        .join(kept, on="cluster_id", how="left")
    )
    fresh = clusters.filter(pl.col("prev_id").is_null()).sort("_first")
    fresh = fresh.with_columns(new_ids(fresh.height, taken).alias("person_id"))
    ids = pl.concat([
        clusters.filter(pl.col("prev_id").is_not_null()).select("cluster_id", pl.col("prev_id").alias("person_id")),
        fresh.select("cluster_id", "person_id"),
    ])
    assigned = joined.join(ids, on="cluster_id")
    carried = [c for c in current.columns if c not in (*KEY, "cluster_id")]
    return assigned.select(*KEY, *carried, "person_id"), _changes(assigned, previous)


def _changes(assigned: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """Events of this refresh: created, merged (other id retired into person), split (records
    of a previous person moved to another person), retired (no records left)."""
    moves = (
        assigned.filter(pl.col("prev_id").is_not_null() & (pl.col("prev_id") != pl.col("person_id")))
        .group_by("prev_id", "person_id")
        .len()
    )
    # Series, not Python sets: a first build at 1.1M people has 1.2M ids on each side
    still = assigned["person_id"].unique().implode()
    prev_ids = previous["person_id"].unique()
    merged = moves.filter(~pl.col("prev_id").is_in(still)).select(
        pl.lit("merged").alias("event"), "person_id", pl.col("prev_id").alias("other_person_id"), pl.col("len").alias("records")
    )
    split = moves.filter(pl.col("prev_id").is_in(still)).select(
        pl.lit("split").alias("event"), "person_id", pl.col("prev_id").alias("other_person_id"), pl.col("len").alias("records")
    )
    created = (
        assigned.group_by("person_id").len().filter(~pl.col("person_id").is_in(prev_ids.implode()))
        .select(pl.lit("created").alias("event"), "person_id", pl.lit(None, pl.Utf8).alias("other_person_id"), pl.col("len").alias("records"))
    )
    gone = prev_ids.filter(~prev_ids.is_in(still) & ~prev_ids.is_in(merged["other_person_id"].implode())).sort()
    retired = pl.DataFrame({"event": "retired", "person_id": gone}).select(
        pl.col("event").cast(pl.Utf8), pl.col("person_id").cast(pl.Utf8), pl.lit(None, pl.Utf8).alias("other_person_id"),
        pl.lit(0, pl.UInt32).alias("records"))
    return pl.concat([
        f.with_columns(pl.col("records").cast(pl.UInt32)) for f in (created, merged, split, retired)
    ]).sort("event", "person_id", "other_person_id", nulls_last=True)
