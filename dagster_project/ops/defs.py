"""The operational definitions for an asset graph, assembled for definitions.py.

    from dagster_project.ops.defs import apply_operational_policies, operations
    defs = apply_operational_policies(dg.Definitions.merge(core, operations(assets)))
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from dagster_project.ops.alerts import alert_on_run_failure
from dagster_project.ops.concurrency import free_slots_of_dead_runs
from dagster_project.ops.policies import apply_operational_policies
from dagster_project.ops.refresh import build_refresh

__all__ = ["apply_operational_policies", "operations"]


def operations(assets: Sequence[dg.AssetsDefinition]) -> dg.Definitions:
    """The operational pieces for this asset graph (chain jobs, automation and alert sensors)."""
    jobs, sensors = build_refresh(assets)
    return dg.Definitions(jobs=jobs, sensors=[*sensors, alert_on_run_failure, free_slots_of_dead_runs])
