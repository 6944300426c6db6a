"""Resources of the warehouse: the dbt CLI over the project in dbt/."""

from __future__ import annotations

from dagster_dbt import DbtCliResource

from dagster_project.warehouse.project import DBT_PROJECT, dbt_executable

WAREHOUSE_RESOURCES = {"dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable())}
