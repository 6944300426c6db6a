"""The projection report: "what the ICS looks like in 5, 10 and 20 years", one HTML file
with inline SVG charts, from the projection marts of the warehouse.

    tables = read_tables(zones)          # the marts and seeds the report needs (polars)
    html = render(tables)                # pure: tables -> HTML
    path = write_report(zones)           # reports/projection/<reference date>/index.html

Counts shown are expected values from a model, rounded to the nearest 5 (so a small
year-0 cell is not shown exactly); the marts keep the unrounded values.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

import duckdb
import polars as pl

from dagster_project.lib.files import write_text_atomic
from dagster_project.lib.zones import Zones
from dagster_project.projection import charts

HORIZONS = (0, 5, 10, 20)
OLD_BANDS = ("65-74", "75-84", "85+")
HEADLINE = [
    ("Registered population", "population:all"),
    ("Aged 65 and over", "population:65plus"),
    ("Aged 85 and over", "population:85plus"),
    ("Two or more long-term conditions", "multimorbidity:ltc_2plus"),
    ("Frailty and dementia segment (Bridges to Health)", "segment:frailty_dementia"),
    ("Moderate or severe frailty (65+)", "frailty:moderate_or_severe"),
    ("Dementia register", "condition:dementia"),
    ("Emergency admissions a year", "activity:emergency_admissions"),
]
SEGMENT_LABELS = {
    "segment:end_of_life_organ_failure": "End of life / organ failure",
    "segment:frailty_dementia": "Frailty and dementia",
    "segment:serious_but_stable": "Serious but stable",
    "segment:disability": "Disability",
    "segment:chronic_conditions": "Chronic conditions",
    "segment:maternal_infant_health": "Maternal and infant health",
    "segment:acutely_ill": "Acutely ill",
    "segment:healthy_well": "Healthy well",
}
TABLES = {
    "population": "select year, years_ahead, district_name, age_band, sex, sum(projected) as projected, "
                  "sum(low) as low, sum(high) as high, any_value(reference_date) as reference_date "
                  "from marts.mart_projection_population group by all",
    "need": "select year, years_ahead, district_name, measure_group, measure, sum(projected) as projected, "
            "sum(low) as low, sum(high) as high from marts.mart_projection_need group by all",
    "backtest": "select * from marts.mart_projection_backtest",
    "growth": "select * from reference.projection_district_growth",
    "mortality": "select * from reference.projection_mortality",
    "fertility": "select * from reference.projection_fertility",
    "parameters": "select * from reference.projection_parameters",
    "trends": "select * from reference.projection_need_trends",
    "excluded": "select count(*) filter (where sex not in ('F', 'M')) as unknown_sex, count(*) as people "
                "from marts.dim_person",
}


def read_tables(zones: Zones) -> dict[str, pl.DataFrame]:
    """The marts and seeds the report reads, from warehouse.duckdb (read-only)."""
    path = zones.warehouse_db
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: build the warehouse (dbt) before the projection report")
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {name: con.sql(sql).pl() for name, sql in TABLES.items()}
    finally:
        con.close()


def r5(value: float) -> str:
    return f"{5 * round(value / 5):,.0f}"


def ics_series(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """ICS totals per measure and year (projected, low, high), population measures included."""
    pop = tables["population"]
    groups = {"population:all": pl.lit(True), "population:65plus": pl.col("age_band").is_in(OLD_BANDS),
              "population:85plus": pl.col("age_band") == "85+"}
    frames = [pop.filter(cond).group_by("year", "years_ahead").agg(pl.col("projected", "low", "high").sum())
              .with_columns(measure=pl.lit(m)) for m, cond in groups.items()]
    need = tables["need"]
    frames.append(need.group_by("year", "years_ahead", "measure").agg(pl.col("projected", "low", "high").sum()))
    frames.append(need.filter(pl.col("measure").is_in(["frailty:moderate", "frailty:severe"]))
                  .group_by("year", "years_ahead").agg(pl.col("projected", "low", "high").sum())
                  .with_columns(measure=pl.lit("frailty:moderate_or_severe")))
    return pl.concat([f.select("measure", "year", "years_ahead", "projected", "low", "high") for f in frames])


def headline_rows(series: pl.DataFrame) -> list[dict]:
    """One row per headline measure with its value at each horizon."""
    rows = []
    for label, measure in HEADLINE:
        s = series.filter(pl.col("measure") == measure)
        cells = {}
        for h in HORIZONS:
            r = s.filter(pl.col("years_ahead") == h)
            cells[h] = r.row(0, named=True) if r.height else None
        rows.append({"label": label, "measure": measure, "cells": cells})
    return rows


def _cell(c: dict | None, base: dict | None) -> str:
    if c is None:
        return "<td>–</td>"
    change = ""
    if base and base["projected"] and c["years_ahead"]:
        change = f' <span class="chg">({(c["projected"] / base["projected"] - 1):+.0%})</span>'
    interval = "" if not c["years_ahead"] else f'<br><span class="int">{r5(c["low"])}–{r5(c["high"])}</span>'
    return f"<td>{r5(c['projected'])}{change}{interval}</td>"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _points(series: pl.DataFrame, measure: str, index: bool = False) -> list[tuple[int, float, float, float]]:
    s = series.filter(pl.col("measure") == measure).sort("year")
    if s.is_empty():
        return []
    base = s["projected"][0] if index else 1.0
    k = 100.0 / base if index and base else 1.0
    return [(y, p * k, lo * k, hi * k) for y, p, lo, hi in s.select("year", "projected", "low", "high").iter_rows()]


def district_table_rows(tables: dict[str, pl.DataFrame], horizon: int) -> list[list[str]]:
    """Per district: people 65+, 85+ and with 2+ LTCs now and at the horizon."""
    pop = tables["population"].filter(pl.col("years_ahead").is_in([0, horizon]))
    need = tables["need"].filter(pl.col("years_ahead").is_in([0, horizon])
                                 & (pl.col("measure") == "multimorbidity:ltc_2plus"))
    frames = [
        pop.filter(pl.col("age_band").is_in(OLD_BANDS)).with_columns(what=pl.lit("65+")),
        pop.filter(pl.col("age_band") == "85+").with_columns(what=pl.lit("85+")),
        need.with_columns(what=pl.lit("ltc")),
    ]
    totals = pl.concat([f.select("district_name", "years_ahead", "what", "projected", "low", "high")
                        for f in frames]).group_by("district_name", "years_ahead", "what").agg(
        pl.col("projected", "low", "high").sum())
    rows = []
    for district in sorted(totals["district_name"].unique().to_list()):
        cells = [f"<td>{escape(district)}</td>"]
        for what in ("65+", "85+", "ltc"):
            for h in (0, horizon):
                r = totals.filter((pl.col("district_name") == district) & (pl.col("what") == what)
                                  & (pl.col("years_ahead") == h))
                cells.append(_cell(r.row(0, named=True) if r.height else None, None))
        rows.append(cells)
    return rows


def render(tables: dict[str, pl.DataFrame]) -> str:
    """The report's HTML (pure: same tables, same page)."""
    pop = tables["population"]
    reference_date = pop["reference_date"].max()
    base_year = int(pop["year"].min())
    last_year = int(pop["year"].max())
    series = ics_series(tables)
    years = {h: base_year + h for h in HORIZONS}

    headline = headline_rows(series)
    head_table = _table(
        ["Measure", *[f"{years[h]}" + (" (now)" if h == 0 else f" (+{h} y)") for h in HORIZONS]],
        [[f"<td>{escape(r['label'])}</td>", *[_cell(r["cells"][h], r["cells"][0]) for h in HORIZONS]]
         for r in headline])

    bands = sorted(pop["age_band"].unique().to_list())
    by_band = pop.group_by("years_ahead", "age_band", "sex").agg(pl.col("projected").sum())

    def band_values(h: int) -> dict[tuple[str, str], float]:
        return {(b, s): v for _, b, s, v in by_band.filter(pl.col("years_ahead") == h).iter_rows()}

    horizon = min(20, last_year - base_year)
    pyramid = charts.pyramid(f"Registered population by age and sex, {base_year} and {base_year + horizon}",
                             bands, band_values(0), band_values(horizon), str(base_year),
                             str(base_year + horizon))
    older = charts.line_chart("People aged 65+ and 85+ (principal, shaded: low-high variants)",
                              {"65+": _points(series, "population:65plus"),
                               "85+": _points(series, "population:85plus")}, "people")
    need_index = charts.line_chart(
        f"Need relative to {base_year} (= 100); shaded: low-high scenario",
        {"2+ LTCs": _points(series, "multimorbidity:ltc_2plus", True),
         "frailty segment": _points(series, "segment:frailty_dementia", True),
         "dementia": _points(series, "condition:dementia", True),
         "emergency adm.": _points(series, "activity:emergency_admissions", True),
         "population": _points(series, "population:all", True)},
        "index", y_min=None)

    old_by_district = (pop.filter(pl.col("age_band").is_in(OLD_BANDS) & pl.col("years_ahead").is_in([0, horizon]))
                       .group_by("district_name", "years_ahead").agg(pl.col("projected").sum())
                       .pivot(on="years_ahead", index="district_name", values="projected"))
    district_bars = charts.bar_chart(
        f"Change in people aged 65+ by district, {base_year} to {base_year + horizon}",
        sorted(((d, 100 * (b / a - 1)) for d, a, b in old_by_district.select(
            "district_name", str(0), str(horizon)).iter_rows() if a), key=lambda t: -t[1]))

    district_rows = district_table_rows(tables, horizon)

    conditions = sorted(m for m in series["measure"].unique().to_list() if m.startswith("condition:"))
    condition_rows = []
    for m in conditions:
        cells = {h: (lambda r: r.row(0, named=True) if r.height else None)(
            series.filter((pl.col("measure") == m) & (pl.col("years_ahead") == h))) for h in HORIZONS}
        condition_rows.append([f"<td>{escape(m.split(':', 1)[1].replace('_', ' '))}</td>",
                               *[_cell(cells[h], cells[0]) for h in HORIZONS]])
    segment_rows = []
    for m, label in SEGMENT_LABELS.items():
        cells = {h: (lambda r: r.row(0, named=True) if r.height else None)(
            series.filter((pl.col("measure") == m) & (pl.col("years_ahead") == h))) for h in HORIZONS}
        segment_rows.append([f"<td>{escape(label)}</td>", *[_cell(cells[h], cells[0]) for h in HORIZONS]])
    horizon_head = [f"{years[h]}" for h in HORIZONS]

    bt = tables["backtest"]
    bt_ics = bt.filter(pl.col("district_name") == "ICS").sort("measure")
    bt_rows = [[f"<td>{escape(m)}</td>", f"<td>{p:,.1f}</td>", f"<td>{a:,.0f}</td>",
                f"<td>{'–' if e is None else f'{e:+.1%}'}</td>", f"<td>{'–' if n is None else f'{n:+.1%}'}</td>"]
               for m, p, a, e, n in bt_ics.select("measure", "projected", "actual", "pct_error",
                                                  "naive_pct_error").iter_rows()]
    bt_pop = bt.filter(pl.col("measure") == "population:all").sort("district_name")
    bt_pop_rows = [[f"<td>{escape(d)}</td>", f"<td>{p:,.1f}</td>", f"<td>{a:,.0f}</td>",
                    f"<td>{'–' if e is None else f'{e:+.1%}'}</td>", f"<td>{'–' if n is None else f'{n:+.1%}'}</td>"]
                   for d, p, a, e, n in bt_pop.select("district_name", "projected", "actual", "pct_error",
                                                      "naive_pct_error").iter_rows()]
    mae = bt_ics.filter(pl.col("pct_error").is_not_null())
    bt_dates = (bt["base_date"].min(), bt["target_date"].max()) if bt.height else (None, None)

    def source_rows(frame: pl.DataFrame, cols: list[str]) -> list[list[str]]:
        return [[f"<td>{escape(str(v))}</td>" for v in row] for row in frame.select(cols).iter_rows()]

    excluded = tables["excluded"].row(0, named=True)
    css = ("body{font-family:Arial,Helvetica,sans-serif;max-width:1000px;margin:24px auto;color:#212b32}"
           "table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #d8dde0;padding:4px 8px;"
           "text-align:right;vertical-align:top}td:first-child,th:first-child{text-align:left}"
           "th{background:#f0f4f5}.int{color:#4c6272;font-size:11px}.chg{color:#005eb8;font-size:11px}"
           ".note{color:#4c6272;font-size:13px}h2{border-bottom:2px solid #005eb8;padding-bottom:4px}"
           "svg{display:block;margin:8px 0 16px}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>What the ICS looks like in 5, 10 and 20 years</title>
<style>{css}</style></head><body>
<h1>What the ICS looks like in 5, 10 and 20 years</h1>
<p>Projection of the registered population of the integrated care system from the warehouse's reference
date <b>{reference_date}</b> ({excluded['people']:,} living registered people; {excluded['unknown_sex']:,}
of unknown sex are not projected) to {last_year}, and of need on that population. Generated
{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Counts are expected values from a model, rounded to
the nearest 5; each cell shows the principal projection, its change since {base_year}, and the low–high
interval.</p>

<h2>Headlines</h2>
{head_table}
<p class="note">Population: low/high = low/high population variants (net migration ±
{tables['parameters'].filter(pl.col('parameter') == 'migration_variant_spread')['value'][0]:.0%} of its
rate; ONS low/high life expectancy mortality improvement). Need: the rates of {base_year} by age band × sex ×
IMD quintile held constant (principal) or improving/worsening each year (low/high; seed
projection_need_trends, an assumption, not a forecast) on the low/high population.</p>

<h2>Who the ICS will be</h2>
{pyramid}
{older}
{district_bars}
<h3>By district, {base_year} and {base_year + horizon} (principal; low–high)</h3>
{_table(["District", f"65+ {base_year}", f"65+ {base_year + horizon}", f"85+ {base_year}",
         f"85+ {base_year + horizon}", f"2+ LTCs {base_year}", f"2+ LTCs {base_year + horizon}"], district_rows)}

<h2>What they will need</h2>
{need_index}
<h3>Condition registers</h3>
{_table(["Register", *horizon_head], condition_rows)}
<h3>Bridges to Health segments</h3>
{_table(["Segment", *horizon_head], segment_rows)}

<h2>How good is the projection? Back-test</h2>
<p>The population registered on {bt_dates[0]} projected {bt_dates[0]} → {bt_dates[1]} with the same model
and rates, its registers by the {bt_dates[0]} rates, against what the extracts show on {bt_dates[1]} (same
generic register rule at both dates). "Nothing changes" carries the {bt_dates[0]} count forward: the
benchmark a projection has to beat. Mean absolute error over the {mae.height} ICS measures:
projection {mae['pct_error'].abs().mean() if mae.height else float('nan'):.1%}, nothing-changes
{mae['naive_pct_error'].abs().mean() if mae.height else float('nan'):.1%}.</p>
{_table(["Measure (ICS)", "projected", "actual", "error", "nothing-changes error"], bt_rows)}
{_table(["Population by district", "projected", "actual", "error", "nothing-changes error"], bt_pop_rows)}

<h2>Published rates used (seeds, with sources)</h2>
<h3>District growth (net migration is its residual after natural change)</h3>
{_table(["LAD", "district", "annual growth", "period", "source"],
        source_rows(tables['growth'], ['lad19cd', 'lad_name', 'annual_growth', 'period', 'source']))}
<h3>Fertility</h3>
{_table(["parameter", "value", "unit", "source"], source_rows(tables['fertility'], ['parameter', 'value', 'unit', 'source']))}
<h3>Mortality (qx at anchor ages; log-linear in between)</h3>
{_table(["sex", "age", "qx", "source"], source_rows(tables['mortality'], ['sex', 'age', 'qx', 'source']))}
<h3>Parameters and need scenarios</h3>
{_table(["parameter", "value", "unit", "source"], source_rows(tables['parameters'], ['parameter', 'value', 'unit', 'source']))}
{_table(["measure group", "improvement a year", "worsening a year", "source"],
        source_rows(tables['trends'], ['measure_group', 'improvement_per_year', 'worsening_per_year', 'source']))}

<h2>What this does not model</h2>
<ul>
<li>Net migration is spread in proportion to the population (no age profile of migrants), is held at the
district's recent rate for 20 years and comes from total growth (ONS mid-year estimates), not from an ONS
subnational projection; East Suffolk's growth is a national stand-in.</li>
<li>Mortality and fertility are national (England / England and Wales / UK), not specific to districts or to
deprivation; the deprivation structure of the population is carried forward, not projected.</li>
<li>The registered list is not the resident population (list inflation, people registered elsewhere).</li>
<li>Need rates are the ICS's own at the reference date; the scenarios are stated assumptions. Changes in
coding, case finding or thresholds are not modelled.</li>
</ul>
</body></html>
"""


def write_report(zones: Zones, tables: dict[str, pl.DataFrame] | None = None) -> Path:
    """Write reports/projection/<reference date>/index.html atomically and return its path
    (`tables`: what `read_tables` returned, when the caller has already read them)."""
    tables = tables if tables is not None else read_tables(zones)
    html = render(tables)
    reference_date = tables["population"]["reference_date"].max()
    path = zones.reports / "projection" / str(reference_date) / "index.html"
    return write_text_atomic(path, html)
