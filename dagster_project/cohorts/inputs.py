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

inputs.json also holds the release's `fingerprint`: a digest of everything that decides its
published bytes - the rows it read from the warehouse (cohort, evidence, population, uptake,
rule coverage, approved practices: not the build's id or clock time, so a rebuild of the same
month with the same content gives the same digest), the identity versions it reads, its
earlier releases, its own registry entry, the code and GX suite digests and the library
versions. A release whose fingerprint equals the one of the release `latest.json` points at
would publish the same files again: publishing skips it (cohorts/publish.py) unless forced.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.cohorts.registry import Project
from dagster_project.lib.files import sha256_file, write_json_atomic
from dagster_project.lib.zones import Zones
from dagster_project.warehouse import manifest

INPUTS_FILE = "inputs.json"
LATEST = "latest.json"  # per project: the release readers see (cohorts/publish.py moves it)
FINGERPRINT = "fingerprint"
# identity outputs every release reads (the opt-out gate) and those a direct-care one adds
IDENTITY_READ = ("opt_outs.parquet",)
IDENTITY_READ_DIRECT_CARE = ("pseudo_keys.parquet", "contact_details.parquet")
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


def _digest(doc: object) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def frame_digest(frame: pl.DataFrame) -> str:
    """Content digest of a table whatever its row order (the warehouse returns rows in any
    order): its schema and the sorted 64-bit hashes of its rows (stable within one polars
    version, which the fingerprint records)."""
    rows = np.sort(frame.hash_rows(seed=0).to_numpy()) if frame.height else np.array([], dtype=np.uint64)
    return _digest({"schema": [(n, str(t)) for n, t in frame.schema.items()], "height": frame.height,
                    "rows": hashlib.sha256(rows.tobytes()).hexdigest()})


def fingerprint(project: Project, run_date: str, used: dict, frames: dict[str, pl.DataFrame],
                facts: dict) -> dict:
    """What decides a release's published bytes, by content (see the module docstring):
    `frames` and `facts` are what it read from the warehouse, `used` its release_inputs()."""
    wanted = IDENTITY_READ + (IDENTITY_READ_DIRECT_CARE if project.direct_care else ())
    parts = {
        "run_date": run_date,
        "registry_entry": _digest(asdict(project)),
        "warehouse": {**{name: frame_digest(f) for name, f in sorted(frames.items())},
                      **{name: _digest(fact) for name, fact in sorted(facts.items())}},
        "identity": {n: (used["identity"].get(n) or {}).get("sha256") for n in wanted},
        "earlier_releases": _digest(used["earlier_releases"]),
        "code_files": _digest(used["code_files"]),
        "libraries": {**used["code"].get("libraries", {}), "python": used["code"].get("python")},
    }
    return {"digest": _digest(parts), "parts": parts}


def changed_parts(before: dict | None, after: dict) -> list[str]:
    """Which parts of a fingerprint moved (for the log): `warehouse.cohort`, `code_files`..."""
    if not before:
        return ["no fingerprint recorded"]
    old, new = before.get("parts", {}), after["parts"]
    changed = []
    for key in sorted(set(old) | set(new)):
        if isinstance(new.get(key), dict) and isinstance(old.get(key), dict):
            changed += [f"{key}.{k}" for k in sorted(set(old[key]) | set(new[key])) if old[key].get(k) != new[key].get(k)]
        elif old.get(key) != new.get(key):
            changed.append(key)
    return changed


def current_release(zones: Zones, project_id: str) -> tuple[Path, dict] | None:
    """The release latest.json points at and its recorded inputs (None: none, or one
    published before inputs were recorded)."""
    pointer = zones.published / project_id / LATEST
    if not pointer.exists():
        return None
    folder = zones.published / project_id / json.loads(pointer.read_text())["run_date"]
    recorded = folder / INPUTS_FILE
    return (folder, json.loads(recorded.read_text())) if recorded.exists() else None
