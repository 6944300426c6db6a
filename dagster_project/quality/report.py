"""A self-contained HTML validation report (readable offline) from a suite outcome.

GX 1.x Data Docs need a file-backed context and a site builder per run; this renders
the same facts (each expectation, its severity, verdict, counts and sample rows) from
the GX results into one file that the Dagster asset metadata links to.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from dagster_project.quality.suite import SuiteOutcome

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%;font-size:14px}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f4f5}.pass{color:#00703c}.block{color:#d4351c;font-weight:bold}
.warn{color:#b35c00;font-weight:bold}code{font-size:12px}
"""


def render_html(
    outcome: SuiteOutcome | None, title: str, facts: dict, error: str | None = None
) -> str:
    rows = []
    for o in outcome.outcomes if outcome else []:
        if o.success:
            verdict = '<span class="pass">passed</span>'
        elif o.severity == "blocking":
            verdict = '<span class="block">FAILED (blocking)</span>'
        else:
            verdict = '<span class="warn">warning</span>'
        counts = ""
        if o.unexpected_count is not None:
            counts = f"{o.unexpected_count:,} of {o.element_count:,} ({o.unexpected_percent:.3f}%)"
        elif o.observed_value is not None:
            counts = html.escape(str(o.observed_value))
        samples = html.escape(json.dumps(o.sample_rows[:5], default=str)) if o.sample_rows else ""
        rows.append(
            "<tr>"
            f"<td>{html.escape(o.rule)}</td><td><code>{html.escape(o.expectation)}</code></td>"
            f"<td>{html.escape(o.column or '')}</td><td>{o.severity}</td><td>{verdict}</td>"
            f"<td>{counts}{('<br>' + html.escape(o.error)) if o.error else ''}</td>"
            f"<td><code>{samples}</code></td></tr>"
        )
    fact_rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts.items()
    )
    verdict = "no validation (the file could not be read)" if outcome is None else (
        "PASSED" if outcome.passed else "BLOCKED"
    )
    err = f"<h2>Error</h2><p class='block'>{html.escape(error)}</p>" if error else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>Verdict: <b>{verdict}</b></p>{err}<table>{fact_rows}</table>"
        "<h2>Expectations (Great Expectations suite)</h2><table><tr><th>rule</th>"
        "<th>expectation</th><th>column</th><th>severity</th><th>result</th><th>counts</th>"
        f"<th>sample rows</th></tr>{''.join(rows)}</table></body></html>"
    )


def write_report(path: Path, doc: dict, page: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".json").write_text(json.dumps(doc, indent=2, default=str))
    path.write_text(page)
    return path
