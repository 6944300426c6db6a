"""Build the warehouse through Dagster and summarise it (for `dagster_project.run`).

    from dagster_project.warehouse.build import build_warehouse
    ok = build_warehouse(zones, instance)   # prints segment sizes and risk calibration
"""

from __future__ import annotations

import dagster as dg
import duckdb

from dagster_project.lib.zones import Zones
from dagster_project.resources import PlatformResource
from dagster_project.warehouse.assets import warehouse_dbt_assets
from dagster_project.warehouse.project import docs_dir
from dagster_project.warehouse.resources import WAREHOUSE_RESOURCES


def materialise_warehouse(zones: Zones, instance: dg.DagsterInstance | None = None,
                          reference_date: str | None = None) -> dg.ExecuteInProcessResult:
    """`dbt build` (+ docs) of every warehouse asset, checks included, as of the date."""
    config = {"reference_date": reference_date} if reference_date else {}
    return dg.materialize(
        [warehouse_dbt_assets],
        instance=instance,
        resources={**WAREHOUSE_RESOURCES,
                   "platform": PlatformResource(data_dir=str(zones.data_dir),
                                                landing_dir=str(zones.landing))},
        run_config={"ops": {"warehouse_dbt": {"config": config}}},
        raise_on_error=False,
        tags={"trigger": "make_run"},
    )


def summary(zones: Zones) -> str:
    """Segment sizes, risk tiers and the calibration table from the built warehouse."""
    con = duckdb.connect(str(zones.warehouse / "warehouse.duckdb"), read_only=True)
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
    lines += ["", f"dbt docs: {docs_dir(zones.data_dir) / 'index.html'}"]
    return "\n".join(lines)


def build_warehouse(zones: Zones, instance: dg.DagsterInstance | None = None,
                    reference_date: str | None = None) -> bool:
    """Materialise the warehouse and print its summary; False when the build failed."""
    result = materialise_warehouse(zones, instance, reference_date)
    if not result.success:
        print("warehouse build FAILED: see the Dagster run logs (dbt errors and failing tests)")
        return False
    print(summary(zones))
    return True
