"""`python -m dagster_project.run`: the one-command demo behind `make run`.

Generates the default synthetic ICS when the landing zone is empty, registers every
landed extract as a partition, materialises every asset through Dagster on the
persistent instance (DAGSTER_HOME, so the UI shows the history afterwards) and prints
a short summary.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl

from dagster_project.lib.zones import Zones
from dagster_project.sources import raw_zone
from dagster_project.sources.landing import discover_extracts
from dagster_project.sources.partitions import PARTITIONS
from dagster_project.sources.registry import load_registry, sources


def landing_is_empty(zones: Zones) -> bool:
    return not any(discover_extracts(zones.landing, s).dates for s in sources())


def generate_default(zones: Zones, persons: int, seed: int) -> None:
    from dagster_project.synthetic import GeneratorConfig, generate

    print(f"landing zone is empty: generating a synthetic ICS of {persons:,} people into {zones.data_dir}")
    generate(GeneratorConfig(persons=persons, seed=seed, out=zones.data_dir))


def materialise_all(zones: Zones, instance: dg.DagsterInstance) -> list[str]:
    """Ingest every landed extract, oldest first, through the ingest jobs. Returns failures."""
    from dagster_project.definitions import defs

    failures = []
    for source in sources():
        found = discover_extracts(zones.landing, source)
        for problem in found.invalid:
            print(f"  skipped {problem}: folder name is not an ISO date (YYYY-MM-DD)")
        partitions = PARTITIONS[source]
        known = set(instance.get_dynamic_partitions(partitions.name))
        missing = [d for d in found.dates if d not in known]
        if missing:
            instance.add_dynamic_partitions(partitions.name, missing)
        job = defs.resolve_job_def(f"ingest_{source}")
        for extract_date in found.dates:
            result = job.execute_in_process(
                instance=instance, partition_key=extract_date, raise_on_error=False,
                tags={"trigger": "make_run"},
            )
            if not result.success:
                failures.append(f"{source} {extract_date}")
    return failures


def link_and_pseudonymise(instance: dg.DagsterInstance) -> bool:
    """Score, cluster and pseudonymise with the current model (the `link_people` job)."""
    from dagster_project.definitions import defs

    result = defs.resolve_job_def("link_people").execute_in_process(
        instance=instance, raise_on_error=False, tags={"trigger": "make_run"}
    )
    return result.success


def linkage_summary(zones: Zones) -> list[str]:
    from dagster_project.linkage import pipeline

    path = zones.identity / pipeline.PERSON_INDEX
    if not path.exists():
        return []
    index = pl.read_parquet(path)
    lines = ["", f"People linked: {index['person_id'].n_unique():,} people from {index.height:,} "
             f"person-level records (Splink; identity zone {zones.identity})"]
    accuracy = pipeline.evaluate(zones)
    if accuracy:
        for name, m in accuracy.items():
            lines.append(f"  {name:<16} precision {m['precision']:.4f}  recall {m['recall']:.4f}  "
                         f"people {m['people_predicted']:,} (truth {m['people_true']:,})")
    opt = zones.identity / pipeline.OPT_OUTS
    if opt.exists():
        lines.append(f"  national data opt-outs applied to {pl.read_parquet(opt).height:,} people")
    return lines


def summary(zones: Zones) -> str:
    lines = ["", "Rows in the raw zone (what downstream sees: newest snapshot / all increments):"]
    for spec in load_registry().values():
        frame = raw_zone.scan_published(zones.raw, spec)
        dates = raw_zone.published_dates(zones.raw, spec)
        rows = frame.select(pl.len()).collect().item() if frame is not None else 0
        lines.append(f"  {spec.source + '.' + spec.table:<40} {rows:>12,}  extracts: {len(dates)}")
    lines += linkage_summary(zones)
    lines += [
        "",
        f"data directory:   {zones.data_dir}",
        f"raw zone:         {zones.raw}",
        f"quarantine:       {zones.quarantine}",
        f"validation reports: {zones.reports / 'validation'}",
        "Open the Dagster UI with `make ui` (http://127.0.0.1:3000) to see the runs.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=int(os.environ.get("PHM_PERSONS", 20_000)))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    zones = Zones.from_env()
    os.environ.setdefault("DAGSTER_HOME", str(zones.data_dir / "dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if landing_is_empty(zones):
        generate_default(zones, args.persons, args.seed)
    with dg.DagsterInstance.get() as instance:
        failures = materialise_all(zones, instance)
        if not failures and not link_and_pseudonymise(instance):
            failures.append("link_people")
        if not failures:
            from dagster_project.warehouse.build import build_warehouse

            if not build_warehouse(zones, instance):
                failures.append("warehouse")
        if not failures:
            from dagster_project.cohorts.build import publish_all

            if not publish_all(zones, instance):
                failures.append("cohorts")
        if not [f for f in failures if f != "cohorts"]:  # the projection needs the warehouse only
            from dagster_project.projection.build import build_projection

            if not build_projection(zones, instance):
                failures.append("projection")
    print(summary(zones))
    print(f"\nfinished in {time.monotonic() - started:.0f} s")
    if failures:
        print(f"FAILED partitions (see the Dagster UI and {zones.quarantine}): {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
