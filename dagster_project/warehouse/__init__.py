"""The dbt warehouse (dbt/) as Dagster assets: staging -> intermediate -> marts, tests as checks."""

from dagster_project.warehouse.assets import WAREHOUSE_ASSETS, warehouse_dbt_assets
from dagster_project.warehouse.resources import WAREHOUSE_RESOURCES

__all__ = ["WAREHOUSE_ASSETS", "WAREHOUSE_RESOURCES", "warehouse_dbt_assets"]
