"""Where warehouse builds live, and how readers are moved to a good one.

Every build writes a folder of its own, never reused:
`warehouse/<reference_date>/<build_id>/warehouse.duckdb` with its build.json beside it
(warehouse/manifest.py). Only after a build succeeded (dbt models and blocking tests, then
its manifest recorded) are two relative links moved, each with one atomic rename:
`warehouse/<reference_date>/warehouse.duckdb` (that date's last good build: Zones.warehouse_at)
and `warehouse/warehouse.duckdb` (what readers open: Zones.warehouse_db). A failed build
leaves both where they were and its folder in place for inspection (a folder without
build.json is a failed or running build: only a good build records one); rebuilding a date
(the same month again after a late extract or a seed change) leaves the earlier build of
that date intact and addressable by its id. A date built before builds had folders (its
warehouse a plain file where the date's link now goes) is kept in
`<date>/before-build-folders/` when that date is first built again.

    build_id = new_build_id(context.run_id)
    database = zones.warehouse_build("2026-10-01", build_id)   # dbt writes here
    promote(zones, "2026-10-01", database)                     # after the build succeeded
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

from dagster_project.lib.files import point_at
from dagster_project.lib.zones import Zones
from dagster_project.warehouse.manifest import BUILD_FILE


def new_build_id(run_id: str | None = None) -> str:
    """Sortable and unique: UTC time of the build's start, then the run id's first 8 hex."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{(run_id or uuid.uuid4().hex)[:8]}"


LEGACY = "before-build-folders"


def promote(zones: Zones, reference_date: str, database: Path) -> None:
    """Make a finished build its date's good build, then the readers' current one."""
    date_link = zones.warehouse / str(reference_date) / "warehouse.duckdb"
    keep_unfoldered(date_link)
    point_at(date_link, database)
    point_at(zones.warehouse / "warehouse.duckdb", database)


def keep_unfoldered(date_link: Path) -> None:
    """A date built before builds had folders holds its warehouse as a plain file where the
    date's link goes: keep it (hard links, so readers never see it missing) in
    <date>/before-build-folders/ before the link replaces it, with its build.json."""
    if not date_link.exists() or date_link.is_symlink():
        return
    keep = date_link.parent / LEGACY
    keep.mkdir(exist_ok=True)
    for name in (date_link.name, f"{date_link.name}.wal", BUILD_FILE):
        plain = date_link.parent / name
        if plain.exists() and not plain.is_symlink() and not (keep / name).exists():
            os.link(plain, keep / name)
    for name in (f"{date_link.name}.wal", BUILD_FILE):  # the warehouse file itself: point_at replaces it
        (date_link.parent / name).unlink(missing_ok=True)


def builds_of(zones: Zones, reference_date: str) -> list[Path]:
    """Every build folder of a date holding a warehouse file, oldest first (failed ones too)."""
    folder = zones.warehouse / str(reference_date)
    return sorted(p.parent for p in folder.glob("*/warehouse.duckdb")) if folder.exists() else []
