"""Dagster asset of the projection area (group `projection`): the report, refreshed after
the warehouse. The projection itself is dbt (marts mart_projection_*, whose Python model
calls dagster_project.projection.model); this asset reads those marts and writes the
report "what the ICS looks like in 5, 10, 20 years" under reports/projection/<date>/.

Refresh: declarative automation, set by group in ops/policies.py (condition `republish`:
once the warehouse has been rebuilt and the chain is idle), evaluated by the
`downstream_refresh` sensor; by hand, the job `publish_projection` (ops/refresh.py).
"""

from __future__ import annotations

import dagster as dg
import polars as pl

from dagster_project.lib.report_urls import link as report_link
from dagster_project.ops.concurrency import WAREHOUSE_POOL
from dagster_project.projection import report
from dagster_project.resources import PlatformResource

GROUP = "projection"
REPORT = dg.AssetKey(["projection", "report"])
MARTS = ["mart_projection_population", "mart_projection_need", "mart_projection_backtest"]


@dg.asset(
    key=REPORT,
    group_name=GROUP,
    deps=[dg.AssetKey(["warehouse", m]) for m in MARTS],
    description=(
        "What the ICS looks like in 5, 10 and 20 years: HTML report (inline SVG charts) of the "
        "projected registered population (cohort-component, published ONS rates), need by "
        "condition register, Bridges to Health segment, frailty and emergency admissions with "
        "low/high intervals, and the projection's back-test, from the mart_projection_* marts."
    ),
    owners=["team:population-health"],
    kinds={"duckdb", "html"},
    pool=WAREHOUSE_POOL,  # reads warehouse.duckdb: not while dbt writes it
)
def projection_report(platform: PlatformResource) -> dg.MaterializeResult:
    tables = report.read_tables(platform.zones)
    path = report.write_report(platform.zones, tables)
    series = report.ics_series(tables)
    metadata: dict[str, dg.MetadataValue | str | float | int] = {
        "report": report_link(platform.zones, path),  # served by `make ui`
        "reference_date": str(tables["population"]["reference_date"].max()),
        "headlines": dg.MetadataValue.md(headline_markdown(series)),
    }
    backtest = tables["backtest"].filter(pl.col("district_name") == "ICS")
    if backtest.height:
        metadata["backtest_mean_abs_pct_error"] = float(backtest["pct_error"].abs().mean())
        metadata["backtest_naive_mean_abs_pct_error"] = float(backtest["naive_pct_error"].abs().mean())
    return dg.MaterializeResult(metadata=metadata)


def headline_markdown(series: pl.DataFrame) -> str:
    """The report's headline table as markdown (asset metadata and the `make run` summary)."""
    rows = report.headline_rows(series)
    years = sorted({c["year"] for r in rows for c in r["cells"].values() if c})
    lines = ["| measure | " + " | ".join(str(y) for y in years) + " |",
             "|---|" + "---|" * len(years)]
    for r in rows:
        cells = []
        for h in report.HORIZONS:
            c = r["cells"][h]
            cells.append("–" if c is None else report.r5(c["projected"]) if h == 0
                         else f"{report.r5(c['projected'])} ({report.r5(c['low'])}–{report.r5(c['high'])})")
        lines.append(f"| {r['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


PROJECTION_DEFS = dg.Definitions(assets=[projection_report])
