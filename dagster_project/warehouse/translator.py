"""One translator for the whole dbt project: keys, group, upstream sources, docs link.

- models and seeds: AssetKey(["warehouse", <name>]), group `warehouse`;
- dbt sources over the raw zone: the ingest assets AssetKey(["raw", <source>, <table>])
  (partitioned by extract date; the dbt assets are unpartitioned and read, as of the
  reference date, whichever published extracts apply);
- dbt sources over the identity zone: AssetKey(["identity", "pseudo_keys"]) and
  AssetKey(["identity", "opt_outs"]), built by the linkage.
dbt tests become asset checks (dagster-dbt default); error-severity tests are blocking.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

from dagster_project.warehouse.project import docs_dir

GROUP = "warehouse"


class WarehouseTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source, table = dbt_resource_props["source_name"], dbt_resource_props["name"]
            if source == "identity":
                return dg.AssetKey(["identity", table])
            return dg.AssetKey(["raw", source, table])
        return dg.AssetKey(["warehouse", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return GROUP

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        meta = dict(super().get_metadata(dbt_resource_props))
        data_dir = Path(os.environ.get("PHM_DATA_DIR", "data")).resolve()
        meta["dbt_docs"] = dg.MetadataValue.path(str(docs_dir(data_dir) / "index.html"))
        return meta
