"""The alert log: one JSON line per alert in `$PHM_DATA_DIR/alerts/alerts.jsonl`.

Owned here, below every area, so that the landing sensor (sources) and the run-failure
sensor (`ops.alerts`, which also POSTs to a webhook) write the same file the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster_project.lib.zones import Zones


def alerts_file(zones: Zones) -> Path:
    return zones.alerts / "alerts.jsonl"


def append_alert(record: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
    return path
