"""One translator for the whole dbt project: keys, group, upstream sources, docs link.

- models and seeds: AssetKey(["warehouse", <name>]), grouped by layer: `warehouse_staging`,
  `warehouse_intermediate`, `warehouse_marts` and `warehouse_seeds` (reference data);
- dbt sources over the raw zone: the ingest assets AssetKey(["raw", <source>, <table>])
  (partitioned by extract date; the dbt assets are unpartitioned and read, as of the
  reference date, whichever published extracts apply);
- metadata `dbt_docs`: a link to the node in the dbt docs that `make ui` serves;
- dbt sources over the identity zone: AssetKey(["identity", "pseudo_keys"]) and
  AssetKey(["identity", "opt_outs"]), built by the linkage.
dbt tests become asset checks (dagster-dbt default); error-severity tests are blocking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

from dagster_project.lib.report_urls import base_url
from dagster_project.warehouse.project import DOCS_PATH

GROUP = "warehouse"
LAYERS = ("staging", "intermediate", "marts")


class WarehouseTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source, table = dbt_resource_props["source_name"], dbt_resource_props["name"]
            if source == "identity":
                return dg.AssetKey(["identity", table])
            return dg.AssetKey(["raw", source, table])
        return dg.AssetKey(["warehouse", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return f"{GROUP}_seeds"
        fqn = dbt_resource_props.get("fqn", [])
        layer = fqn[1] if len(fqn) > 2 and fqn[1] in LAYERS else None
        return f"{GROUP}_{layer}" if layer else GROUP

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        meta = dict(super().get_metadata(dbt_resource_props))
        # the docs site served by `make ui` (dbt docs opened from disk are blank), at this node
        meta["dbt_docs"] = dg.MetadataValue.url(
            f"{base_url()}/{DOCS_PATH}#!/{dbt_resource_props['resource_type']}/{dbt_resource_props['unique_id']}")
        return meta
