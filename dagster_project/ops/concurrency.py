"""Concurrency pools: one writer per DuckDB database and per raw table.

Every pool has a limit of one slot (`concurrency: pools: default_limit: 1` in the
instance's dagster.yaml, see deploy/). A step claims its pool's slot before it runs and
waits while another run holds it, so:

- `duckdb_warehouse`: one `dbt build` (or any other writer of warehouse.duckdb) at a time;
  readers of the warehouse file (cohort publishing) belong in the same pool, because DuckDB
  refuses a second process while one holds the write lock;
- `identity_zone`: one linkage step at a time writes identity/*.parquet;
- `raw_<source>_<table>`: two extract dates of one table never stage and publish at once
  (different tables ingest in parallel).
"""

from __future__ import annotations

WAREHOUSE_POOL = "duckdb_warehouse"
IDENTITY_POOL = "identity_zone"


def raw_pool(source: str, table: str) -> str:
    """The pool of one raw table: its extract dates publish one at a time."""
    return f"raw_{source}_{table}"
