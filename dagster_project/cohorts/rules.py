"""What a release says about its rules: which are switched off and why, how many people each
rule included or excluded in this run (the rule coverage), and whether the campaign it runs
under is confirmed or assumed.

Read from the warehouse (marts.cohort_rule_coverage, built from seed project_rules, and the
cohort's campaign_status where it has one). Counts from 1 to suppress_below - 1 are shown as
"<n" because release.json and the report may be shared outside the care team.
"""

from __future__ import annotations

import html
from pathlib import Path

import duckdb

from dagster_project.cohorts.disclosure import is_small

ALL_PROJECTS = "all_projects"  # rules every cohort shares (the opt-outs)


def _shown(count: int, suppress_below: int) -> int | str:
    return f"<{suppress_below}" if is_small(count, suppress_below) else count


def rule_status(warehouse: Path, project_id: str, model: str, suppress_below: int) -> dict:
    """{rules_off, coverage, campaign, warnings} for one project's release."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.sql("""
            select project, rule_id, rule_kind, status, people, in_cohort, source, source_date, reason_off
            from marts.cohort_rule_coverage
            where project in (?, ?)
            order by project <> ?, rule_kind, rule_id""", params=[project_id, ALL_PROJECTS, project_id]).fetchall()
        columns = {c[0] for c in con.sql(f"describe marts.{model}").fetchall()}
        campaign = None
        if {"campaign_id", "campaign_status"} <= columns:
            found = con.sql(f"""
                select campaigns.campaign_id, campaigns.status, campaigns.source
                from reference.covid_campaigns as campaigns
                where campaigns.campaign_id in (select campaign_id from marts.{model})""").fetchone()
            if found:
                campaign = {"campaign_id": found[0], "status": found[1], "source": found[2]}
    finally:
        con.close()
    coverage = [{"project": r[0], "rule_id": r[1], "rule_kind": r[2], "status": r[3],
                 "people": _shown(r[4], suppress_below), "in_cohort": _shown(r[5], suppress_below),
                 "source": r[6], "source_date": r[7]} for r in rows]
    rules_off = [{"project": r[0], "rule_id": r[1], "rule_kind": r[2], "reason": r[8]}
                 for r in rows if r[3] == "off"]
    warnings = []
    if campaign and campaign["status"] != "confirmed":
        warnings.append(f"campaign {campaign['campaign_id']} is {campaign['status']}, not confirmed by "
                        f"published advice: {campaign['source']}")
    silent = [r[1] for r in rows if r[3] == "on" and r[4] == 0 and r[2] != "evidence"]
    if silent:
        warnings.append(f"rules on but firing for nobody in this run: {', '.join(silent)}")
    return {"rules_off": rules_off, "coverage": coverage, "campaign": campaign, "warnings": warnings}


def report_section(status: dict) -> str:
    """The report's section on the rules: warnings, rules switched off, coverage."""
    warn = "".join(f"<p class='warning'><b>Warning:</b> {html.escape(w)}</p>" for w in status["warnings"])
    off = "".join(f"<li><code>{html.escape(r['rule_id'])}</code> ({html.escape(r['rule_kind'])}): "
                  f"{html.escape(r['reason'] or '')}</li>" for r in status["rules_off"])
    rows = "".join(
        f"<tr><td>{html.escape(r['rule_id'])}</td><td>{html.escape(r['rule_kind'])}</td>"
        f"<td>{html.escape(r['status'])}</td><td>{r['people']}</td><td>{r['in_cohort']}</td>"
        f"<td>{html.escape(r['source'] or '')}</td></tr>" for r in status["coverage"])
    campaign = ""
    if status["campaign"]:
        c = status["campaign"]
        campaign = (f"<p>Campaign <code>{html.escape(c['campaign_id'])}</code>: "
                    f"<b>{html.escape(c['status'])}</b> - {html.escape(c['source'] or '')}</p>")
    return (f"<section><h2>Rules</h2>{warn}{campaign}"
            f"<h3>Rules switched off</h3><ul>{off or '<li>none</li>'}</ul>"
            "<h3>Rule coverage in this run</h3><table><tr><th>rule</th><th>kind</th><th>status</th>"
            f"<th>people</th><th>in cohort</th><th>source</th></tr>{rows}</table></section>")
