"""What one release read, written beside it as inputs.json, so it can be rebuilt exactly.

A release (published/<project>/<run_date>/) is made from: the warehouse as of its reference
date (whose own build.json names the raw partitions, identity versions and dbt project files
it was built from: warehouse/manifest.py), the identity-zone versions the release itself
reads (opt-outs for the gate, pseudo keys and contact details for the call lists), and the
files of the project's earlier releases it reads (their summaries for the trend, the
previous cohort for uptake). inputs.json records all of them by SHA-256, with the code
version and every file of the Python package that published it and of the expectation
suites it read (kept in the warehouse's object store); `python -m dagster_project.cohorts.rebuild` replays it with that code.

inputs.json and release.json are the release's metadata: neither is among the published
files release.json hashes (release.json holds the clock time, run id and who released it).
"""

from __future__ import annotations

from pathlib import Path

from dagster_project.cohorts.registry import Project
from dagster_project.lib.files import sha256_file, write_json_atomic
from dagster_project.lib.zones import Zones
from dagster_project.warehouse import manifest

INPUTS_FILE = "inputs.json"
EARLIER_FILES = ("summary.csv", "cohort.parquet")  # what publish reads of earlier releases
REGISTRY = Path(__file__).resolve().parent / "projects.yaml"


def earlier_releases(zones: Zones, project_id: str, before: str) -> dict[str, dict[str, str]]:
    """run_date -> {file: sha256} of the project's releases before `before`."""
    root = zones.published / project_id
    found: dict[str, dict[str, str]] = {}
    for folder in sorted(root.glob("????-??-??")) if root.exists() else []:
        if folder.name < before:
            files = {n: sha256_file(folder / n) for n in EARLIER_FILES if (folder / n).exists()}
            if files:
                found[folder.name] = files
    return found


def release_inputs(zones: Zones, project: Project, run_date: str, warehouse: Path) -> dict:
    """The inputs of a release about to be built (taken before it reads anything)."""
    build = manifest.read_build(warehouse)
    return {
        "project": project.id,
        "run_date": run_date,
        "warehouse_build": build,  # None: a warehouse built before manifests (not rebuildable)
        "identity": manifest.identity_inputs(zones),
        "earlier_releases": earlier_releases(zones, project.id, run_date),
        "registry": {"projects.yaml": sha256_file(REGISTRY)},
        "code": manifest.code_version(),
        # the release code itself (and its GX suites): the build's map, hashed once per build
        "code_files": manifest.release_code_files(zones, build),
    }


def write_inputs(folder: Path, inputs: dict) -> Path:
    return write_json_atomic(folder / INPUTS_FILE, inputs)
