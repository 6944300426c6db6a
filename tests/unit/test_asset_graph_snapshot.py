"""The asset graph as a reviewable text file: keys, groups, partitions, automation, checks,
jobs, schedules and sensors. A change to the graph fails this test until the snapshot is
regenerated, so that it shows up in review as a diff of tests/snapshots/asset_graph.txt:

    PHM_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest -q tests/unit/test_asset_graph_snapshot.py
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "asset_graph.txt"


def _partitions(node) -> str:
    pd = node.partitions_def
    if pd is None:
        return "-"
    if isinstance(pd, dg.DynamicPartitionsDefinition):
        return f"dynamic:{pd.name}"
    if isinstance(pd, dg.StaticPartitionsDefinition):
        return "static:" + ",".join(pd.get_partition_keys())
    return type(pd).__name__


def render(defs: dg.Definitions) -> str:
    graph = defs.resolve_asset_graph()
    lines = ["# assets: key | group | partitions | automation | owners, then its checks (! = blocking; partitioned = a verdict per partition)"]
    checks_by_asset: dict[dg.AssetKey, list[str]] = {}
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        checks_by_asset.setdefault(check_key.asset_key, []).append(
            check_key.name + ("!" if spec.blocking else "")
            + (" (partitioned)" if spec.partitions_def is not None else ""))
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        if not node.is_materializable:
            continue
        condition = node.automation_condition.get_label() if node.automation_condition else "-"
        lines.append(" | ".join([key.to_user_string(), node.group_name or "-", _partitions(node),
                                 condition or "unlabelled", ",".join(sorted(node.owners)) or "-"]))
        lines += [f"    check {name}" for name in sorted(checks_by_asset.get(key, []))]
    lines += ["", "# jobs: name | assets selected"]
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        keys = sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
        prefixes = sorted({k.split("/")[0] for k in keys})
        lines.append(f"{job.name} | {len(keys)} assets under {','.join(prefixes)}")
    lines += ["", "# schedules: name | cron | timezone | job"]
    for schedule in sorted(defs.schedules or [], key=lambda s: s.name):
        lines.append(f"{schedule.name} | {schedule.cron_schedule} | {schedule.execution_timezone} | "
                     f"{schedule.job_name}")
    lines += ["", "# sensors: name | kind | default status"]
    for sensor in sorted(defs.sensors or [], key=lambda s: s.name):
        lines.append(f"{sensor.name} | {type(sensor).__name__} | {sensor.default_status.value}")
    return "\n".join(lines) + "\n"


def test_asset_graph_matches_the_reviewed_snapshot():
    from dagster_project.definitions import defs

    current = render(defs)
    if os.environ.get("PHM_UPDATE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(current)
    recorded = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    assert current == recorded, (
        "the asset graph changed: review the difference and regenerate the snapshot with "
        "PHM_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest -q tests/unit/test_asset_graph_snapshot.py")


def test_the_code_location_holds_exactly_one_definitions():
    """`dagster dev` refuses a module with two Definitions objects at module scope."""
    import dagster_project.definitions as module

    assert [name for name, value in vars(module).items() if isinstance(value, dg.Definitions)] == ["defs"]
