"""dbt reads the raw zone where Python writes it, for every table of the landing registry.

The layout is written once per side: `sources/raw_zone.py` (Python, which writes it) and the
`sources: +meta: external_location` of dbt/dbt_project.yml (every raw dbt source). This test
parses the dbt project against a known data directory and compares the two, both ways.
"""

from __future__ import annotations

import json
import re

import pytest

from dagster_project.lib.zones import Zones
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry
from dagster_project.warehouse.project import DBT_DIR

# registry tables the warehouse never reads: the national data opt-out list (NHS numbers) is
# read by the identity zone only, which hands dbt the pseudonymised identity/opt_outs instead
NOT_IN_WAREHOUSE = {("opt_out", "national_data_opt_out")}


@pytest.fixture(scope="module")
def dbt_sources(tmp_path_factory) -> tuple[Zones, dict[tuple[str, str], dict]]:
    from dbt.cli.main import dbtRunner

    root = tmp_path_factory.mktemp("dbt_sources")
    zones = Zones.at(root / "data")
    target = root / "target"
    result = dbtRunner().invoke([
        "parse", "--quiet", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
        "--target-path", str(target), "--vars", json.dumps({"data_dir": str(zones.data_dir)})])
    assert result.success, result.exception
    manifest = json.loads((target / "manifest.json").read_text())
    return zones, {(s["source_name"], s["name"]): s for s in manifest["sources"].values()}


def location(source: dict) -> str:
    """The path inside read_parquet('<path>', ...), formatted as dbt-duckdb does."""
    meta = source["meta"]
    rendered = meta["external_location"].format_map(
        {"name": source["name"], "identifier": source["identifier"], "schema": source["schema"],
         "database": source["database"], **meta})
    found = re.fullmatch(r"read_parquet\('([^']+)'(.*)\)", rendered)
    assert found, rendered
    return found.group(1)


def test_every_registry_table_is_read_where_raw_zone_writes_it(dbt_sources):
    zones, sources = dbt_sources
    specs = [s for s in load_registry().values() if (s.source, s.table) not in NOT_IN_WAREHOUSE]
    assert len(specs) >= 10
    for spec in specs:
        source = sources.get((spec.source, spec.table))
        assert source is not None, f"raw table {spec.source}.{spec.table} has no dbt source"
        assert source["meta"]["zone"] == "raw"
        assert location(source) == str(raw_zone.every_extract(zones.raw, spec)), (spec.source, spec.table)
        assert "hive_partitioning = true" in source["meta"]["external_location"]


def test_every_raw_dbt_source_is_a_registry_table(dbt_sources):
    _, sources = dbt_sources
    registry = {(s.source, s.table) for s in load_registry().values()}
    raw = {key for key, s in sources.items() if s["meta"].get("zone") == "raw"}
    assert raw == registry - NOT_IN_WAREHOUSE
    assert NOT_IN_WAREHOUSE <= registry  # an exclusion that matches nothing is a stale one
    # the identity zone's two files are the only other sources, outside raw
    assert set(sources) - raw == {("identity", "pseudo_keys"), ("identity", "opt_outs")}
