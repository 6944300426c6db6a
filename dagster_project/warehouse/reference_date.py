"""The reference date the warehouse is computed as of."""

from __future__ import annotations

import datetime as dt

from dagster_project.lib.zones import Zones
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry


def newest_published_extract(zones: Zones) -> str:
    """The newest published extract date of gp.patients (the spine), as an ISO date."""
    dates = raw_zone.published_dates(zones.raw, load_registry()["gp__patients"])
    if not dates:
        raise RuntimeError(
            f"no published gp.patients extract under {zones.raw}: ingest the sources first "
            "(make run, or materialise the raw/* assets)")
    return dates[-1]


def resolve_reference_date(zones: Zones, configured: str | None) -> str:
    """The configured date (validated) or else the newest published extract date."""
    if configured:
        return dt.date.fromisoformat(configured).isoformat()
    return newest_published_extract(zones)
