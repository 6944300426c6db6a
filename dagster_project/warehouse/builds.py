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
that date intact and addressable by its id. A data directory built before builds had folders
(a date's warehouse a plain file where its link now goes) is migrated once, by hand
(warehouse/migrate.py); promote refuses to replace such a file.

    build_id = new_build_id(context.run_id)
    database = zones.warehouse_build("2026-10-01", build_id)   # dbt writes here
    promote(zones, "2026-10-01", database)                     # after the build succeeded
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from dagster_project.lib.files import point_at
from dagster_project.lib.zones import Zones


def new_build_id(run_id: str | None = None) -> str:
    """Sortable and unique: UTC time of the build's start, then the run id's first 8 hex."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{(run_id or uuid.uuid4().hex)[:8]}"


def unmigrated(date_link: Path) -> bool:
    """A date's warehouse path holding a plain file (built before build folders), not a link."""
    return date_link.exists() and not date_link.is_symlink()


class UnmigratedWarehouse(RuntimeError):
    """A date's warehouse path holds a plain file built before build folders."""


def promote(zones: Zones, reference_date: str, database: Path) -> None:
    """Make a finished build its date's good build, then the readers' current one. A date
    still holding a warehouse built before build folders is never replaced: that data
    directory needs the one-off migration first (warehouse/migrate.py)."""
    date_link = zones.warehouse / str(reference_date) / "warehouse.duckdb"
    if unmigrated(date_link):
        raise UnmigratedWarehouse(
            f"{date_link} is a warehouse built before build folders, not a link; it is not replaced: "
            f"run `python -m dagster_project.warehouse.migrate --data-dir {zones.data_dir}` once, then "
            f"build again (this build is left unpromoted in {database.parent})")
    point_at(date_link, database)
    point_at(zones.warehouse / "warehouse.duckdb", database)


def builds_of(zones: Zones, reference_date: str) -> list[Path]:
    """Every build folder of a date holding a warehouse file, oldest first (failed ones too)."""
    folder = zones.warehouse / str(reference_date)
    return sorted(p.parent for p in folder.glob("*/warehouse.duckdb")) if folder.exists() else []
