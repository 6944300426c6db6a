"""The release report: one self-contained HTML file (inline SVG charts, no scripts, no
network), built only from the suppressed summary, so it can be shared like the summary."""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl

from dagster_project.cohorts.disclosure import SUPPRESSED
from dagster_project.cohorts.registry import Project
from dagster_project.cohorts.rules import report_section as rule_section

MAX_BARS = 40


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", SUPPRESSED) else None
    except ValueError:
        return None


def bar_chart(title: str, labels: list[str], values: list[str], unit: str = "") -> str:
    """Horizontal bars as inline SVG; a suppressed value is drawn as a label, not a bar."""
    labels, values = labels[:MAX_BARS], values[:MAX_BARS]
    numbers = [_num(v) for v in values]
    top = max([n for n in numbers if n is not None] or [1.0]) or 1.0
    row, label_w, bar_w = 20, 230, 360
    height = row * len(labels) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 120}" height="{height}" '
             f'role="img" aria-label="{html.escape(title)}">',
             f'<text x="0" y="14" font-weight="bold" font-size="13">{html.escape(title)}</text>']
    for i, (label, value, n) in enumerate(zip(labels, values, numbers)):
        y = 24 + i * row
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" font-size="11" text-anchor="end">{html.escape(label)}</text>')
        if n is None:
            parts.append(f'<text x="{label_w}" y="{y + 13}" font-size="11" fill="#888">{html.escape(value or "n/a")}</text>')
            continue
        width = max(1.0, bar_w * n / top)
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{width:.1f}" height="{row - 6}" fill="#005eb8"/>')
        parts.append(f'<text x="{label_w + width + 4}" y="{y + 13}" font-size="11">{html.escape(value)}{unit}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _section(summary: pl.DataFrame, dimension: str, heading: str, sort_by_size: bool = False) -> str:
    part = summary.filter(pl.col("dimension") == dimension)
    if sort_by_size:
        part = part.with_columns(pl.col("cohort").cast(pl.Int64, strict=False).alias("_n")) \
            .sort("_n", descending=True, nulls_last=True)
    labels, sizes, gaps = part["group"].to_list(), part["cohort"].to_list(), part["cohort_per_1000"].to_list()
    charts = bar_chart(f"Cohort size by {heading}", labels, sizes)
    if any(g for g in gaps):
        charts += bar_chart(f"Gap by {heading} (cohort per 1,000 eligible people)", labels, gaps)
    note = f"<p class='note'>First {MAX_BARS} of {part.height} shown.</p>" if part.height > MAX_BARS else ""
    return f"<section><h2>By {html.escape(heading)}</h2>{charts}{note}</section>"


def uptake_section(uptake: pl.DataFrame | None, previous_run: str | None, suppress_below: int = 8) -> str:
    """Uptake after contact against comparable people not yet contacted (suppressed table
    from dagster_project.cohorts.uptake), by IMD quintile with 95% confidence intervals."""
    if previous_run is None:
        return ("<section><h2>Uptake after contact</h2><p class='note'>No earlier release of this "
                "project: nothing to compare yet.</p></section>")
    if uptake is None or uptake.height == 0:
        return (f"<section><h2>Uptake after contact</h2><p class='note'>No outreach outcomes have come "
                f"back for the release of {html.escape(previous_run)} yet.</p></section>")

    def pct(v: str | None) -> str:
        n = _num(v)
        return f"{100 * n:.1f}%" if n is not None else html.escape(v or "")

    rows = "".join(
        f"<tr><td>{html.escape(r['imd_quintile'])}</td><td>{html.escape(r['group'])}</td>"
        f"<td>{html.escape(r['people'])}</td><td>{html.escape(r['took_up'])}</td><td>{pct(r['rate'])}</td>"
        f"<td>{pct(r['ci_low'])} - {pct(r['ci_high'])}</td><td>{html.escape(r['accepted_offer'] or '')}</td></tr>"
        for r in uptake.iter_rows(named=True))
    charts = "".join(
        bar_chart(f"Uptake (%) by IMD quintile - {group}",
                  part["imd_quintile"].to_list(),
                  [f"{100 * _num(v):.1f}" if _num(v) is not None else (v or "") for v in part["rate"].to_list()])
        for group in ("contacted", "not yet contacted")
        if (part := uptake.filter(pl.col("group") == group)).height)
    return f"""<section><h2>Uptake after contact (people of the release of {html.escape(previous_run)})</h2>
<p class="note">Among the people of the previous release: those the outreach team contacted (uptake = a
qualifying vaccination, screening test or referral on or after the first contact) against those not yet
contacted (the same event on or after the contacted group's median first-contact date: the same window
on average). 95% confidence intervals: Wilson score. IMD quintile
1 = most deprived. "Accepted" = booked or referred at a contact. Counts from 1 to {suppress_below - 1} suppressed.</p>
{charts}
<table><tr><th>IMD quintile</th><th>group</th><th>people</th><th>took up</th><th>rate</th><th>95% CI</th>
<th>accepted at contact</th></tr>{rows}</table></section>"""


def write_report(path: Path, project: Project, run_date: str, summary: pl.DataFrame,
                 trend: list[tuple[str, pl.DataFrame]], call_list_practices: list[str],
                 rules: dict | None = None, uptake: pl.DataFrame | None = None,
                 previous_run: str | None = None) -> Path:
    overall = summary.filter(pl.col("dimension") == "overall")
    size = overall["cohort"][0] if overall.height else "0"
    gap = overall["cohort_per_1000"][0] if overall.height else ""
    core20 = summary.filter((pl.col("dimension") == "core20") & (pl.col("group") == "Core20"))
    core20_size = core20["cohort"][0] if core20.height else "0"
    history = [(d, s.filter(pl.col("dimension") == "overall")["cohort"][0]) for d, s in trend
               if s.filter(pl.col("dimension") == "overall").height]
    history.append((run_date, size))
    table_rows = "".join(
        f"<tr><td>{html.escape(r['dimension'])}</td><td>{html.escape(r['group'])}</td>"
        f"<td>{html.escape(r['cohort'])}</td><td>{html.escape(r['population'] or '')}</td>"
        f"<td>{html.escape(r['cohort_per_1000'] or '')}</td><td>{html.escape(r.get('ci95_per_1000') or '')}</td></tr>"
        for r in summary.iter_rows(named=True))
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(project.title)} - release {run_date}</title>
<style>
 body {{ font-family: Arial, Helvetica, sans-serif; margin: 24px; color: #212b32; max-width: 980px; }}
 h1 {{ color: #005eb8; }} .kpi {{ display: inline-block; margin-right: 32px; }}
 .kpi b {{ display: block; font-size: 24px; }} section {{ margin: 24px 0; }}
 table {{ border-collapse: collapse; font-size: 12px; }} td, th {{ border: 1px solid #ccc; padding: 2px 6px; }}
 .note {{ color: #555; font-size: 12px; }} .warning {{ color: #d5281b; }}
</style></head><body>
<h1>{html.escape(project.title)}</h1>
<p>{html.escape(project.description)}</p>
<p class="note">Release {run_date} (every rule as of this reference date). Pseudonymised and
suppressed: counts from 1 to {project.suppress_below - 1} are shown as "{SUPPRESSED}", so this
report may be shared outside the care team. When and by whom it was released: release.json
(the report itself holds no clock time, so a rebuild of this release is byte-for-byte the same).</p>
<div><span class="kpi">Cohort<b>{html.escape(str(size))}</b></span>
<span class="kpi">Per 1,000 eligible<b>{html.escape(str(gap))}</b></span>
<span class="kpi">In Core20 areas<b>{html.escape(str(core20_size))}</b></span>
<span class="kpi">Practices with call lists<b>{len(call_list_practices)}</b></span></div>
<section><h2>Trend across refreshes</h2>
{bar_chart("Cohort size by release", [d for d, _ in history], [str(v) for _, v in history])}</section>
{uptake_section(uptake, previous_run, project.suppress_below)}
{_section(summary, "imd_quintile", "IMD quintile (1 = most deprived)")}
{_section(summary, "ethnicity_group", "ethnicity group")}
{_section(summary, "core20", "Core20")}
{_section(summary, "age_band", "age band")}
{_section(summary, "stratum", "stratum", sort_by_size=True)}
{_section(summary, "pcn_code", "PCN", sort_by_size=True)}
{_section(summary, "practice_code", "practice", sort_by_size=True)}
<section><h2>How people are chosen and ordered</h2>
<p>Stratum: {html.escape(" x ".join(project.stratify_by))}. Priority within practice:
{html.escape(", ".join(f"{k.column} ({'high' if k.descending else 'low'} first)" for k in project.priority))},
then a fixed tie-break. Rules and parameters: dbt model <code>{html.escape(project.model)}</code>
(see the dbt docs) and seed <code>project_parameters</code>. People with a national data opt-out
or a Type 1 opt-out, people who have died and people no longer registered are never included.
Rates and gaps are per 1,000 of the project's <b>eligible population</b> (everyone its rule
applies to, whether or not they still need the action: warehouse model
<code>mart_outreach_eligible_population</code>), with 95% confidence intervals (Wilson score).</p></section>
{rule_section(rules) if rules else ""}
<section><h2>Summary table</h2><table><tr><th>dimension</th><th>group</th><th>cohort</th>
<th>eligible population</th><th>cohort per 1,000</th><th>95% CI</th></tr>{table_rows}</table></section>
</body></html>
"""
    path.write_text(body, encoding="utf-8")
    return path
