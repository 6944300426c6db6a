"""The dbt warehouse as Dagster assets (thin wrapper; the logic is the dbt project).

One `@dbt_assets` over the manifest: every model and seed is an asset `warehouse/<name>`,
every dbt test an asset check (blocking when its severity is error). A run executes
`dbt build` as of a reference date, the newest published gp.patients extract unless run
config names another (a backfill of a past month), then `dbt docs generate` into
`$PHM_DATA_DIR/warehouse/docs/index.html`.
"""


import json
import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.ops.concurrency import WAREHOUSE_POOL
from dagster_project.ops.policies import TRANSIENT_RETRY, raise_unless_dbt_succeeded
from dagster_project.resources import PlatformResource
from dagster_project.warehouse.project import DBT_PROJECT, docs_dir, ensure_manifest
from dagster_project.warehouse.reference_date import resolve_reference_date
from dagster_project.warehouse.translator import WarehouseTranslator


class WarehouseConfig(dg.Config):
    reference_date: str | None = None  # ISO date; default: newest published extract date


@dbt_assets(
    manifest=ensure_manifest(),
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
    # the dbt profile and sources read PHM_DATA_DIR; the dbt subprocess inherits it
    os.environ["PHM_DATA_DIR"] = str(zones.data_dir)
    zones.warehouse.mkdir(parents=True, exist_ok=True)
    dbt_vars = ["--vars", json.dumps({"reference_date": reference_date})]
    context.log.info(f"building the warehouse as of {reference_date}")
    build = dbt.cli(["build", *dbt_vars], context=context, raise_on_error=False)
    yield from build.stream()
    raise_unless_dbt_succeeded(build)
    docs = docs_dir(zones.data_dir)
    dbt.cli(["docs", "generate", *dbt_vars], target_path=docs, raise_on_error=False).wait()
    context.log.info(f"dbt docs: {docs / 'index.html'}")


WAREHOUSE_ASSETS = [warehouse_dbt_assets]
