"""Where each data zone lives under the one data directory.

The data directory is configuration (`PHM_DATA_DIR`, default `./data`); the landing zone
can be pointed elsewhere (`PHM_LANDING_DIR`) so that real extracts are read where they
are delivered, unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Zones:
    data_dir: Path
    landing: Path

    @classmethod
    def from_env(cls) -> Zones:
        data_dir = Path(os.environ.get("PHM_DATA_DIR", "data")).resolve()
        landing = Path(os.environ.get("PHM_LANDING_DIR", data_dir / "landing")).resolve()
        return cls(data_dir=data_dir, landing=landing)

    @classmethod
    def at(cls, data_dir: Path | str, landing: Path | str | None = None) -> Zones:
        data_dir = Path(data_dir).resolve()
        return cls(data_dir, Path(landing).resolve() if landing else data_dir / "landing")

    @property
    def truth(self) -> Path:
        return self.data_dir / "truth"

    @property
    def raw(self) -> Path:
        return self.data_dir / "raw"

    @property
    def quarantine(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def identity(self) -> Path:
        return self.data_dir / "identity"

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def published(self) -> Path:
        return self.data_dir / "published"

    @property
    def reports(self) -> Path:
        return self.data_dir / "reports"

    def warehouse_at(self, reference_date: str) -> Path:
        """The last good build as of one reference date. Each build has its own folder
        (warehouse_build), so neither another date's nor an earlier build of the same date is
        overwritten; warehouse/<reference_date>/warehouse.duckdb is a relative link to the
        date's last good build, moved only after a build succeeded. The resolved file."""
        link = self.warehouse / str(reference_date) / "warehouse.duckdb"
        return link.resolve() if link.is_symlink() else link

    def warehouse_build(self, reference_date: str, build_id: str) -> Path:
        """One build's own file, written once: warehouse/<reference_date>/<build_id>/warehouse.duckdb
        (its build.json beside it)."""
        return self.warehouse / str(reference_date) / str(build_id) / "warehouse.duckdb"

    @property
    def warehouse_db(self) -> Path:
        """The current warehouse: warehouse/warehouse.duckdb is a relative link to the last
        good build's file (moved atomically after a successful build, as the raw zone's
        data.parquet). The resolved file, so DuckDB keeps its WAL beside the real one."""
        link = self.warehouse / "warehouse.duckdb"
        return link.resolve() if link.is_symlink() else link

    @property
    def dbt_docs(self) -> Path:
        """The dbt docs site (`dbt docs generate --target-path`), served by `make ui`."""
        return self.warehouse / "docs"

    @property
    def alerts(self) -> Path:
        return self.data_dir / "alerts"

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"
