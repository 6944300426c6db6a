"""Run-failure alerts: a JSON line per failed run, and an optional webhook.

Every failed run appends one line to `$PHM_DATA_DIR/alerts/alerts.jsonl` naming the run,
its job and partition, the failing steps and their assets, and the failing checks with
what they found (for a gate: the expectations that broke). When `PHM_ALERT_WEBHOOK_URL`
is set the same JSON is POSTed there (Teams/Slack-style incoming webhook, or any HTTP
endpoint); a webhook that is down is logged in the sensor's log and never stops the
alert being written.

    from dagster_project.ops.alerts import alert_for_run, deliver
    record = alert_for_run(instance, run, "step failed")
    deliver(record, Path("data/alerts/alerts.jsonl"), webhook_url=None)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.events import DagsterEventType

from dagster_project.lib.alert_log import alerts_file, append_alert
from dagster_project.resources import PlatformResource

WEBHOOK_ENV = "PHM_ALERT_WEBHOOK_URL"
UI_URL_ENV = "PHM_DAGSTER_URL"  # e.g. http://phm-dagster.internal:3000, for a link in the alert
WEBHOOK_TIMEOUT_SECONDS = 10
_CHECK_FIELDS = ("failing_expectations", "error", "report", "extract_date", "rows")


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _metadata_text(metadata: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for name in _CHECK_FIELDS:
        value = metadata.get(name)
        if value is None:
            continue
        raw = getattr(value, "value", value)
        out[name] = str(getattr(raw, "path", raw) if not isinstance(raw, str | int | float) else raw)
    return out


def _step_assets(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dict[str, list[str]]:
    """Step key -> the asset keys that step materialises, from the run's execution plan."""
    if not run.execution_plan_snapshot_id:
        return {}
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    out: dict[str, list[str]] = {}
    for step in plan.steps:
        keys = [o.properties.asset_key.to_user_string() for o in step.outputs
                if o.properties and o.properties.asset_key]
        out[step.key] = keys
    return out


def alert_for_run(instance: dg.DagsterInstance, run: dg.DagsterRun, message: str | None) -> dict:
    """The alert record of one failed run: what failed, where, and why, as plain JSON."""
    failed_steps, failed_checks = [], []
    step_assets = _step_assets(instance, run)
    for record in instance.get_records_for_run(run.run_id).records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            failed_steps.append({
                "step": event.step_key,
                "assets": step_assets.get(event.step_key or "", []),
                "error": _first_line(error.message if error else None),
            })
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if evaluation.passed:
                continue
            failed_checks.append({
                "asset": evaluation.asset_key.to_user_string(),
                "check": evaluation.check_name,
                "severity": evaluation.severity.value,
                "blocking": bool(evaluation.blocking),
                **_metadata_text(evaluation.metadata),
            })
    assets = sorted({a for s in failed_steps for a in s["assets"]} | {c["asset"] for c in failed_checks})
    tags = run.tags
    record = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "run_id": run.run_id,
        "job": run.job_name,
        "status": run.status.value,
        "partition": tags.get("dagster/partition")
        or ("...".join(filter(None, [tags.get("dagster/asset_partition_range_start"),
                                     tags.get("dagster/asset_partition_range_end")])) or None),
        "trigger": tags.get("trigger") or tags.get("dagster/schedule_name") or tags.get("dagster/sensor_name"),
        "assets": assets,
        "failed_steps": failed_steps,
        "failed_checks": failed_checks,
        "message": _first_line(message),
    }
    ui = os.environ.get(UI_URL_ENV)
    if ui:
        record["url"] = f"{ui.rstrip('/')}/runs/{run.run_id}"
    return record


def summary_line(record: Mapping[str, Any]) -> str:
    """One human line: for the webhook's `text` field and the sensor log."""
    checks = ", ".join(f"{c['asset']}:{c['check']}" for c in record["failed_checks"] if c["blocking"])
    what = f"blocking check(s) failed: {checks}" if checks else record["message"]
    part = f" [{record['partition']}]" if record.get("partition") else ""
    return f"PHM run failed: {record['job']}{part} (run {record['run_id'][:8]}): {what}"


def post_webhook(record: Mapping[str, Any], url: str,
                 timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> str | None:
    """POST the alert as JSON (with a `text` summary); returns an error message or None."""
    body = json.dumps({"text": summary_line(record), "alert": record}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status >= 300:
                return f"webhook {url} answered HTTP {response.status}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"webhook {url} failed: {exc}"
    return None


def deliver(record: Mapping[str, Any], path: Path, webhook_url: str | None) -> str | None:
    """Write the alert line, then POST it if a webhook is configured; the webhook's error."""
    append_alert(record, path)
    return post_webhook(record, webhook_url) if webhook_url else None


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=(
        "Writes an alert for every failed run to $PHM_DATA_DIR/alerts/alerts.jsonl (run, job, "
        "partition, failing steps and assets, failing checks) and POSTs it to "
        f"${WEBHOOK_ENV} when set."
    ),
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, platform: PlatformResource) -> None:
    record = alert_for_run(context.instance, context.dagster_run, context.failure_event.message)
    path = alerts_file(platform.zones)
    problem = deliver(record, path, os.environ.get(WEBHOOK_ENV) or None)
    context.log.info(f"{summary_line(record)} -> {path}")
    if problem:
        context.log.warning(problem)
