"""Resources: configuration read once, at the edge, and handed to assets.

`PHM_DATA_DIR` (default ./data) holds every zone; `PHM_LANDING_DIR` points the
platform at real extracts where they are delivered. The linkage area owns its own
resources (`linkage/resources.py`: the Splink backend and the pseudonymisation key), so
this module, which every area imports, imports no area.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.lib.zones import Zones


class PlatformResource(dg.ConfigurableResource):
    """Where the data zones are: the given directories, else `PHM_DATA_DIR` /
    `PHM_LANDING_DIR` read when a run (or sensor tick) uses the resource, so that every
    job of the Definitions runs against the data directory of the process that runs it."""

    data_dir: str | None = None
    landing_dir: str | None = None

    @property
    def zones(self) -> Zones:
        if self.data_dir:
            return Zones.at(self.data_dir, self.landing_dir)
        zones = Zones.from_env()
        return Zones.at(zones.data_dir, self.landing_dir or zones.landing)
