"""Shared fixtures: a data directory per test, and hand-made extracts."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
# a test key for the pseudonymisation resource (the Makefile sets a labelled demo key)
os.environ.setdefault("PHM_PSEUDO_KEY", "TEST-KEY-synthetic-data-only")

from dagster_project.lib.nhs_number import generate_999  # noqa: E402
from dagster_project.lib.zones import Zones  # noqa: E402


@pytest.fixture
def zones(tmp_path: Path) -> Zones:
    z = Zones.at(tmp_path / "data")
    z.landing.mkdir(parents=True)
    return z


def patients_frame(n: int = 200, seed: int = 1) -> pl.DataFrame:
    """A valid gp.patients extract of n hand-made people."""
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "patient_id": [f"P{i:06d}" for i in range(n)],
            "practice_code": ["D82001" if i % 2 else "D82002" for i in range(n)],
            "nhs_number": list(generate_999(rng, n)),
            "given_name": ["Alice" if i % 2 else "Bob" for i in range(n)],
            "family_name": ["Smith"] * n,
            "date_of_birth": [(dt.date(1940, 1, 1) + dt.timedelta(days=97 * i % 30000)).isoformat() for i in range(n)],
            "sex": ["F" if i % 2 else "M" for i in range(n)],
            "postcode": ["NR1 1AA"] * n,
            "ethnicity_code": ["976631000000101"] * n,
            "lsoa11cd": ["E01026536"] * n,
            "phone": ["07700 900123"] * n,
            "email": ["alice@example.com"] * n,
            "date_of_death": [""] * n,
        }
    )


def write_landing(zones: Zones, source: str, table: str, extract_date: str, content) -> Path:
    """Deliver a file into landing: bytes/str as a .csv, or a polars frame as CSV."""
    folder = zones.landing / source / extract_date
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}.csv"
    if isinstance(content, pl.DataFrame):
        content.write_csv(path)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return path


def ingest_all(zones: Zones, up_to: str | None = None) -> None:
    """Gate and load every landed extract (optionally only those up to a date)."""
    from dagster_project.sources.ingest import ingest_partition
    from dagster_project.sources.landing import discover_extracts
    from dagster_project.sources.registry import load_registry

    for spec in load_registry().values():
        for extract_date in discover_extracts(zones.landing, spec.source).dates:
            if up_to is None or extract_date <= up_to:
                result = ingest_partition(zones, spec, extract_date)
                assert result.published, result.reason


@pytest.fixture(scope="session")
def small_ics(tmp_path_factory) -> Zones:
    """A 3,000-person synthetic ICS (3 monthly extracts), generated and ingested once."""
    from dagster_project.synthetic import GeneratorConfig, generate

    zones = Zones.at(tmp_path_factory.mktemp("small_ics") / "data")
    generate(GeneratorConfig(persons=3000, seed=5, out=zones.data_dir))
    ingest_all(zones)
    return zones
