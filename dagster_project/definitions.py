"""The Dagster code location: assembles the pieces; holds no logic of its own."""

from __future__ import annotations

import dagster as dg

from dagster_project.resources import PlatformResource
from dagster_project.sources.assets import RAW_ASSETS
from dagster_project.sources.automation import INGEST_JOBS, MONTHLY_SCHEDULES, landing_sensor

defs = dg.Definitions(
    assets=[*RAW_ASSETS],
    jobs=list(INGEST_JOBS.values()),
    sensors=[landing_sensor],
    schedules=MONTHLY_SCHEDULES,
    resources={"platform": PlatformResource.from_env()},
)
