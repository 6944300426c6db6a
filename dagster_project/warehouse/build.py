"""Build the warehouse through the `refresh_warehouse` job and summarise it.

    from dagster_project.warehouse.build import materialise_warehouse, summary
    result = materialise_warehouse(zones, instance)  # the dbt assets of refresh_warehouse
    make_current(zones, "2026-11-01")             # readers back on a date already built
    print(summary(zones))                         # segment sizes and risk calibration
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.lib.files import point_at
from dagster_project.lib.report_urls import base_url
from dagster_project.lib.zones import Zones
from dagster_project.ops.jobs import execute_job
from dagster_project.warehouse.project import DOCS_PATH


def materialise_warehouse(zones: Zones | None = None, instance: dg.DagsterInstance | None = None,
                          reference_date: str | None = None) -> dg.ExecuteInProcessResult:
    """`dbt build` (+ docs) of every warehouse asset, checks included, as of the date: the
    warehouse subset of the Definitions' `refresh_warehouse` job (its resources and pools),
    against `zones` (default: the data directory of this process, `PHM_DATA_DIR`)."""
    from dagster_project.definitions import defs

    job = defs.resolve_job_def("refresh_warehouse")
    keys = [k for k in job.asset_layer.selected_asset_keys if k.path[0] == "warehouse"]
    config = {"reference_date": reference_date} if reference_date else {}
    return execute_job("refresh_warehouse", instance, zones=zones, asset_selection=keys,
                       run_config={"ops": {"warehouse_dbt": {"config": config}}})


def make_current(zones: Zones, reference_date: str) -> Path:
    """Point readers (warehouse/warehouse.duckdb) back at an already built date's warehouse,
    e.g. the newest month after a backfill, without rebuilding it."""
    database = zones.warehouse_at(dt.date.fromisoformat(reference_date).isoformat())  # its last good build
    if not database.exists():
        raise FileNotFoundError(f"no warehouse built as of {reference_date}: {database} (build it first)")
    point_at(zones.warehouse / "warehouse.duckdb", database)
    return database


def summary(zones: Zones) -> str:
    """Segment sizes, risk tiers and the calibration table from the built warehouse."""
    con = duckdb.connect(str(zones.warehouse_db), read_only=True)
    try:
        people, ref = con.sql("select count(*), max(reference_date) from marts.dim_person").fetchone()
        segments = con.sql("select segment_name, count(*) from marts.mart_segmentation "
                           "group by all order by min(segment_priority)").fetchall()
        tiers = con.sql("select risk_tier, count(*) from marts.mart_risk group by 1 "
                        "order by min(risk_probability) desc").fetchall()
        calibration = con.sql("select risk_decile, people, predicted_admissions, observed_admissions, "
                              "observed_to_predicted from marts.mart_risk_calibration order by 1").fetchall()
    finally:
        con.close()
    lines = ["", f"Warehouse as of {ref}: {people:,} living registered people", "",
             "Bridges to Health segments:"]
    lines += [f"  {name:<32} {n:>10,}  {n / people:6.1%}" for name, n in segments]
    lines += ["", "Emergency admission risk tiers:"]
    lines += [f"  {tier:<32} {n:>10,}" for tier, n in tiers]
    lines += ["", "Risk calibration (back-test a year ago): decile, people, predicted, observed, O/P"]
    lines += [f"  {d:>2} {p:>10,} {pr:>10,.1f} {o:>8,} {r}" for d, p, pr, o, r in calibration]
    lines += ["", f"dbt docs: {zones.dbt_docs / 'index.html'} (over HTTP with `make ui`: "
                  f"{base_url()}/{DOCS_PATH})"]
    return "\n".join(lines)
