"""One-off migration of a data directory whose warehouse was built before build folders.

Earlier builds wrote `warehouse/<date>/warehouse.duckdb` as a plain file (its build.json and
WAL beside it); today that path is the date's link to its last good build folder
(warehouse/builds.py). Run once on such a data directory, before its next build:

    python -m dagster_project.warehouse.migrate --data-dir DIR

Each date's plain warehouse is kept, with its WAL and build.json, in
`warehouse/<date>/before-build-folders/` as if it were a build folder, and the date's path
becomes the link to it (readers never see the file missing), so the next build of that date
is promoted as any other. Running it again changes nothing. A build never migrates:
`promote` refuses to replace a plain warehouse file and names this command.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dagster_project.lib.files import point_at
from dagster_project.lib.zones import Zones
from dagster_project.warehouse.builds import unmigrated
from dagster_project.warehouse.manifest import BUILD_FILE

LEGACY = "before-build-folders"
WAREHOUSE_FILE = "warehouse.duckdb"


def keep_unfoldered(date_link: Path) -> bool:
    """A date built before builds had folders holds its warehouse as a plain file where the
    date's link goes: keep it, with its WAL and build.json, in <date>/before-build-folders/
    (hard links, then the plain path becomes a link to the kept file by one atomic rename, so
    readers never see it missing). True when the date needed it."""
    if not unmigrated(date_link):
        return False
    keep = date_link.parent / LEGACY
    keep.mkdir(exist_ok=True)
    for name in (date_link.name, f"{date_link.name}.wal", BUILD_FILE):
        plain, kept = date_link.parent / name, keep / name
        if not plain.exists() or plain.is_symlink():
            continue
        if kept.exists() and not kept.samefile(plain):
            raise FileExistsError(f"{kept} exists and is not {plain}: move one of them aside by hand "
                                  "(neither is overwritten)")
        if not kept.exists():
            os.link(plain, kept)
    point_at(date_link, keep / date_link.name)  # the plain file's path becomes the date's link
    for name in (f"{date_link.name}.wal", BUILD_FILE):  # now beside the kept file only
        (date_link.parent / name).unlink(missing_ok=True)
    return True


def migrate(zones: Zones) -> list[str]:
    """Keep every date's plain warehouse (keep_unfoldered); the dates migrated, oldest first."""
    if not zones.warehouse.exists():
        return []
    dates = sorted(p for p in zones.warehouse.iterdir() if p.is_dir() and not p.is_symlink())
    return [d.name for d in dates if keep_unfoldered(d / WAREHOUSE_FILE)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("PHM_DATA_DIR", "data"))
    args = parser.parse_args(argv)
    migrated = migrate(Zones.at(args.data_dir))
    print(f"kept {len(migrated)} date(s) built before build folders in <date>/{LEGACY}/"
          + (f": {', '.join(migrated)}" if migrated else " (nothing to migrate)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
