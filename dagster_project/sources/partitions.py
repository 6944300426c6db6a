"""Extract-date partitions: one dynamic partition set per source.

Suppliers cut extracts on their own dates (the folder name is the cut date), so the
partitions are the dates that have actually landed, added by the landing sensor or the
run command, rather than a fixed monthly calendar.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.sources.registry import sources


def extract_partitions(source: str) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=f"{source}_extract_dates")


PARTITIONS: dict[str, dg.DynamicPartitionsDefinition] = {s: extract_partitions(s) for s in sources()}
