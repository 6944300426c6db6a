"""The dbt warehouse as Dagster assets (thin wrapper; the logic is the dbt project).

One `@dbt_assets` over the manifest: every model and seed is an asset `warehouse/<name>`
(grouped by layer), every dbt test an asset check (blocking when its severity is error).
A run executes `dbt build` as of a reference date, the newest published gp.patients
extract unless run config names another (a backfill of a past month), with the data
directory passed as the dbt var `data_dir` (the process environment is never changed),
into a folder of its own, `warehouse/<reference_date>/<build_id>/warehouse.duckdb` (no other
date's build, nor an earlier build of the same date, is touched: warehouse/builds.py); a
successful build records its inputs beside it (build.json: warehouse/manifest.py) and then
moves the date's link and `warehouse/warehouse.duckdb` (what readers open) to it;
each materialisation carries its row count and column types, read from the built
warehouse once dbt has released it; then `dbt docs generate` into
`$PHM_DATA_DIR/warehouse/docs/` (served by `make ui`). A failing docs build is a warning.
"""


import json
import os
import shutil
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.ops.concurrency import WAREHOUSE_POOL
from dagster_project.ops.policies import TRANSIENT_RETRY, raise_unless_dbt_succeeded
from dagster_project.resources import PlatformResource
from dagster_project.warehouse import manifest
from dagster_project.warehouse.builds import new_build_id, promote
from dagster_project.warehouse.project import DBT_PROJECT, ensure_manifest
from dagster_project.warehouse.reference_date import resolve_reference_date
from dagster_project.warehouse.translator import WarehouseTranslator

MANIFEST = ensure_manifest()
PARTIAL_PARSE = "partial_parse.msgpack"  # dbt's parse cache in a target folder


class WarehouseConfig(dg.Config):
    reference_date: str | None = None  # ISO date; default: newest published extract date


def table_facts(database, relations: Iterable[str]) -> dict[str, dict]:
    """Relation name -> row count and column schema, read-only, after dbt has finished."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        facts = {}
        for relation in relations:
            schema, table = [part.strip('"') for part in relation.split(".")[-2:]]
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table]).fetchall()
            if not columns:
                continue
            rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            facts[relation] = {  # the keys the UI shows as row count and column types
                "dagster/row_count": dg.MetadataValue.int(rows),
                "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(n, t) for n, t in columns]),
            }
        return facts
    finally:
        con.close()


def with_table_facts(events: list, database) -> Iterator:
    """The dbt events, each model's and seed's materialisation with its row count and columns."""
    nodes = _manifest_nodes()  # models and seeds
    relation_of = {id(e): nodes.get(_text(e.metadata.get("unique_id")), {}).get("relation_name")
                   for e in events if isinstance(e, dg.Output | dg.AssetMaterialization)}
    wanted = {r for r in relation_of.values() if r}
    facts = table_facts(database, wanted) if wanted and database.exists() else {}
    for event in events:
        relation = relation_of.get(id(event))
        yield event.with_metadata({**event.metadata, **facts[relation]}) if relation in facts else event


def _text(value) -> str:
    return str(getattr(value, "value", value) or "")


def reuse_parse(build_target: Path, docs_target: Path) -> None:
    """Let `dbt docs generate` start from the build's parse: the same vars, so dbt accepts the
    build's partial_parse.msgpack and skips a full parse of the project (~8 CPU-s, a third
    of the invocation; Dagster would copy dbt/target's, parsed without these vars, so useless)."""
    parsed = Path(build_target) / PARTIAL_PARSE
    if parsed.exists():
        docs_target.mkdir(parents=True, exist_ok=True)
        tmp = docs_target / f".{PARTIAL_PARSE}.tmp"
        shutil.copyfile(parsed, tmp)
        os.replace(tmp, docs_target / PARTIAL_PARSE)


@cache
def _manifest_nodes() -> dict:
    """The manifest's nodes, read when a build first needs them (never at import: loading
    the code location already reads the manifest once, in @dbt_assets)."""
    with open(MANIFEST) as fh:
        return json.load(fh).get("nodes", {})


@dbt_assets(
    manifest=MANIFEST,
    project=DBT_PROJECT,
    dagster_dbt_translator=WarehouseTranslator(),
    name="warehouse_dbt",
    pool=WAREHOUSE_POOL,  # one writer of warehouse.duckdb
    retry_policy=TRANSIENT_RETRY,  # failing dbt tests are not retried (see below)
)
def warehouse_dbt_assets(context: dg.AssetExecutionContext, config: WarehouseConfig,
                         dbt: DbtCliResource, platform: PlatformResource):
    zones = platform.zones
    reference_date = resolve_reference_date(zones, config.reference_date)
    database = zones.warehouse_build(reference_date, new_build_id(context.run_id))  # written once
    database.parent.mkdir(parents=True, exist_ok=True)
    variables = {"reference_date": reference_date, "data_dir": str(zones.data_dir),
                 "warehouse_path": str(database)}
    dbt_vars = ["--vars", json.dumps(variables)]
    inputs = manifest.collect_inputs(zones, reference_date)  # what this build reads, by version
    context.log.info(f"building the warehouse as of {reference_date} into {database}")
    build = dbt.cli(["build", *dbt_vars], context=context, raise_on_error=False)
    events = list(build.stream())
    if not build.is_successful():
        yield from events  # the links stay on the last good build; this folder is left for inspection
        raise_unless_dbt_succeeded(build)
    recorded = manifest.record_build(zones, reference_date, variables, inputs, database)
    if not recorded["inputs_stable"]:
        context.log.warning("a raw partition or identity output was republished during the build: "
                            f"{database.with_name(manifest.BUILD_FILE)} cannot promise an exact rebuild")
    promote(zones, reference_date, database)  # the date's link, then the readers', move to it
    yield from with_table_facts(events, database)
    docs = zones.dbt_docs
    reuse_parse(build.target_path, docs)
    generated = dbt.cli(["docs", "generate", *dbt_vars], target_path=docs, raise_on_error=False)
    generated.wait()
    if generated.is_successful() and (docs / "index.html").exists():
        context.log.info(f"dbt docs generated in {docs} (served by `make ui`)")
    else:
        context.log.warning(f"dbt docs generate FAILED: the docs site in {docs} is stale or missing "
                            "(the warehouse itself was built and tested)")


WAREHOUSE_ASSETS = [warehouse_dbt_assets]
