"""Candidate pairs per blocking rule: what Splink's predict has to score.

    python benchmarks/linkage_candidates.py DATA_DIR

DATA_DIR holds a prepared ICS (identity/profiles.parquet). For each rule of
`model.blocking_rules_for_prediction()` prints its own join size (pairs agreeing on it: the
join DuckDB has to run) and its marginal count (pairs no earlier rule found: the pairs Splink
scores for it), and the postcode density. Scoring costs ~2 us per scored pair at 1.1M people
on the 2-core box (docs/linkage_performance.md).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dagster_project.linkage.model import blocking_rules_for_prediction  # noqa: E402


def main() -> int:
    data_dir = Path(sys.argv[1])
    profiles = pl.read_parquet(data_dir / "identity" / "profiles.parquet")
    con = duckdb.connect()
    con.register("p", profiles.to_arrow())
    total = scored = 0
    earlier: list[str] = []
    print(f"profiles {profiles.height:,}; postcodes {profiles['postcode'].n_unique():,}; "
          f"profiles per postcode {profiles.height / max(profiles['postcode'].n_unique(), 1):.1f}")
    for rule in blocking_rules_for_prediction():
        sql = rule.get_blocking_rule("duckdb").blocking_rule_sql
        t = time.monotonic()
        n = con.sql(f"select count(*) from p l join p r on ({sql}) and l.unique_id < r.unique_id").fetchone()[0]
        new = " and ".join(f"not coalesce(({e}), false)" for e in earlier) or "true"
        m = con.sql(f"select count(*) from p l join p r on ({sql}) and l.unique_id < r.unique_id where {new}").fetchone()[0]
        earlier.append(sql)
        total += n
        scored += m
        print(f"| `{sql}` | {n:,} | {m:,} | {time.monotonic() - t:.1f} s |", flush=True)
    print(f"| sum | {total:,} | {scored:,} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
