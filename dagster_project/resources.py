"""Resources: configuration read once, at the edge, and handed to assets.

`PHM_DATA_DIR` (default ./data) holds every zone; `PHM_LANDING_DIR` points the
platform at real extracts where they are delivered; `PHM_PSEUDO_KEY` is the
pseudonymisation key (never in code; `make` sets a clearly labelled demo key).
"""

from __future__ import annotations

import dagster as dg

from dagster_project.lib.zones import Zones
from dagster_project.linkage.pseudonymise import require_key


class PlatformResource(dg.ConfigurableResource):
    """Where the data zones are."""

    data_dir: str
    landing_dir: str | None = None

    @property
    def zones(self) -> Zones:
        return Zones.at(self.data_dir, self.landing_dir)

    @classmethod
    def from_env(cls) -> PlatformResource:
        zones = Zones.from_env()
        return cls(data_dir=str(zones.data_dir), landing_dir=str(zones.landing))


class PseudonymisationKey(dg.ConfigurableResource):
    """The HMAC key for pseudo ids: from the environment (`PHM_PSEUDO_KEY`), never code."""

    key: str

    def as_bytes(self) -> bytes:
        return require_key(self.key)
