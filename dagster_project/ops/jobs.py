"""Running a named job of the Definitions in this process, as `make run`, the build helpers
and the benchmarks do: the same job, resources, pools and checks as the UI and the daemon."""

from __future__ import annotations

import dagster as dg

from dagster_project.lib.zones import Zones

# console logger at ERROR for in-process runs: the instance keeps the full event log (the UI)
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
MAKE_RUN_TAGS = {"trigger": "make_run"}


def execute_job(name: str, instance: dg.DagsterInstance | None = None, *,
                zones: Zones | None = None, run_config: dict | None = None,
                tags: dict | None = None, **kwargs) -> dg.ExecuteInProcessResult:
    """Execute job `name` of `dagster_project.definitions.defs`; never raises on failure.
    `zones`: run against these directories (the platform resource's config), else the
    process's PHM_DATA_DIR / PHM_LANDING_DIR."""
    from dagster_project.definitions import defs  # at call time: definitions imports every area

    platform = ({"resources": {"platform": {"config": {
        "data_dir": str(zones.data_dir), "landing_dir": str(zones.landing)}}}} if zones else {})
    return defs.resolve_job_def(name).execute_in_process(
        instance=instance, raise_on_error=False, run_config={**QUIET, **platform, **(run_config or {})},
        tags={**MAKE_RUN_TAGS, **(tags or {})}, **kwargs)
