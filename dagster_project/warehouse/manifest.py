"""What a warehouse build read, recorded beside it so that the build can be redone exactly.

`warehouse/<reference_date>/<build_id>/build.json` (beside the build's warehouse.duckdb:
warehouse/builds.py) names every input of the build by content:

- raw: each published partition on or before the reference date (what the dbt `published_*`
  macros may select), its version folder and the SHA-256 of that version's data.parquet, as
  its ingest audit recorded it (raw versions are immutable: raw_zone.py);
- identity: the versions of the identity-zone outputs the warehouse and the releases read
  (pseudo_keys, opt_outs, contact_details), content-addressed (lib/files.py
  write_versioned), so a later relink never changes what an older build points at;
- dbt: every file of the dbt project (models, macros, seeds - code lists, rule parameters,
  risk coefficients - tests, dbt_project.yml, profiles.yml) by SHA-256, each kept once in the
  object store warehouse/objects/<aa>/<sha256>, so a later seed or model edit does not change
  what an older build is rebuilt with;
- code: `git describe` and commit of the checkout, and the versions of the libraries whose
  output bytes the release depends on; every file of the Python package and the GX suites by
  SHA-256 (kept in the same store), hashed once per build: its releases reference that map;
- dbt_vars: the vars that change results (reference_date, opt-out policy); the location vars
  (data_dir, warehouse_path) are recorded apart, as a rebuild points them elsewhere.

    from dagster_project.warehouse.manifest import record_build
    manifest = record_build(zones, "2026-10-01", dbt_vars, inputs, database)  # after a good dbt build
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from dagster_project.lib.files import adopt_version, sha256_file, temp_beside, write_json_atomic
from dagster_project.lib.zones import Zones
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry
from dagster_project.warehouse.project import DBT_DIR

BUILD_FILE = "build.json"
OBJECTS = "objects"
# identity-zone outputs a build or a release reads (linkage/pipeline.py, cohorts/contacts.py)
IDENTITY_INPUTS = ("pseudo_keys.parquet", "opt_outs.parquet", "contact_details.parquet")
LOCATION_VARS = ("data_dir", "warehouse_path")
LIBRARIES = ("dbt-core", "dbt-duckdb", "duckdb", "polars", "pyarrow")
NOT_PROJECT = {"target", "logs", "dbt_packages", "__pycache__", ".user.yml"}
REPO = DBT_DIR.parent
# what a release runs besides the dbt project: the package and the expectation suites it reads
CODE_FOLDERS = (Path(__file__).resolve().parents[1], REPO / "expectations")


def object_path(zones: Zones, digest: str) -> Path:
    return zones.warehouse / OBJECTS / digest[:2] / digest


def keep_object(zones: Zones, path: Path) -> str:
    """Store a file in the content-addressed object store (once); its SHA-256."""
    digest = sha256_file(path)
    target = object_path(zones, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_beside(target)
        shutil.copyfile(path, tmp)
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    return digest


def project_files(project_dir: Path = DBT_DIR) -> list[Path]:
    """A project's own files (not target/, logs/, installed packages or bytecode), sorted."""
    return sorted(p for p in project_dir.rglob("*") if p.is_file()
                  and not NOT_PROJECT.intersection(p.relative_to(project_dir).parts))


def code_files(zones: Zones, folders: tuple[Path, ...] | None = None) -> dict[str, str]:
    """Every file of the Python package (modules, projects.yaml, registry, shipped models) and
    of the GX suites it reads, keyed by path in the repository, kept in the object store like
    the dbt project's files: a build records them (record_build) and each release made from
    it references that map (cohorts/inputs.py) so that its rebuild runs the release code it ran."""
    return {str(p.relative_to(REPO)): keep_object(zones, p) for folder in folders or CODE_FOLDERS
            for p in project_files(folder)}


def code_stamp(folders: tuple[Path, ...] | None = None) -> str:
    """A cheap fingerprint of the same files (path, size, modification time; no reading):
    equal to a build's, the files are the ones its `code_files` hashed."""
    import hashlib

    listing = [(str(p.relative_to(REPO)), (st := p.stat()).st_size, st.st_mtime_ns)
               for folder in folders or CODE_FOLDERS for p in project_files(folder)]
    return hashlib.sha256(repr(listing).encode()).hexdigest()


def release_code_files(zones: Zones, build: dict | None) -> dict[str, str]:
    """The code map a release records: its warehouse build's (hashed once per build), unless
    a file changed since that build (then hashed and kept afresh, as the release runs it)."""
    if build and build.get("code_files") and build.get("code_stamp") == code_stamp():
        return build["code_files"]
    return code_files(zones)


def _raw_locations(zones: Zones, reference_date: str) -> list[dict]:
    entries = []
    for name, spec in sorted(load_registry().items()):
        for extract_date in raw_zone.published_dates(zones.raw, spec):
            if extract_date > reference_date:
                continue
            data = raw_zone.partition_file(zones.raw, spec, extract_date).resolve()
            entries.append({"table": name, "source": spec.source, "name": spec.table,
                            "extract_date": extract_date,
                            "version": raw_zone.current_version(zones.raw, spec, extract_date),
                            "path": str(data.relative_to(zones.raw.resolve()))})
    return entries


def raw_inputs(zones: Zones, reference_date: str) -> list[dict]:
    """Every published partition on or before the date, with its version and SHA-256."""
    registry = load_registry()
    return [{**r, "sha256": _raw_digest(zones, registry[r["table"]], r)}
            for r in _raw_locations(zones, reference_date)]


def _raw_digest(zones: Zones, spec, location: dict) -> str:
    """The SHA-256 of a partition version's data.parquet: the one its ingest audit recorded
    when it was published (raw versions are immutable), else (a version published before
    audits held it) read from the file."""
    audit = None if location["version"] is None else raw_zone.read_audit(
        zones.raw, spec, location["extract_date"], location["version"])
    return (audit or {}).get(raw_zone.DATA_SHA256) or sha256_file(zones.raw / location["path"])


def identity_inputs(zones: Zones) -> dict[str, dict]:
    """The current version of each identity output (a plain file is made a version first)."""
    found = {}
    for name in IDENTITY_INPUTS:
        version = adopt_version(zones.identity / name)
        if version is not None:
            root = zones.identity.resolve()  # a rebuild's scratch links point outside it
            found[name] = {"sha256": version.name.split(".")[0],
                           "path": str(version.relative_to(root) if version.is_relative_to(root) else version)}
    return found


def code_version() -> dict:
    """The checkout (git describe, commit, uncommitted changes) and the library versions."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    libraries = {}
    for name in LIBRARIES:
        try:
            libraries[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libraries[name] = None
    return {"describe": git("describe", "--always", "--dirty", "--tags"), "commit": git("rev-parse", "HEAD"),
            "python": platform.python_version(), "libraries": libraries}


def collect_inputs(zones: Zones, reference_date: str) -> dict:
    """The raw partitions and identity versions a build as of the date will read (taken
    before the build: record_build checks they did not move while dbt ran)."""
    return {"raw": raw_inputs(zones, reference_date), "identity": identity_inputs(zones)}


def _locations(inputs: dict) -> tuple:
    return ([(r["table"], r["extract_date"], r["path"]) for r in inputs["raw"]],
            {k: v["path"] for k, v in inputs["identity"].items()})


def record_build(zones: Zones, reference_date: str, dbt_vars: dict, inputs: dict, database: Path,
                 project_dir: Path = DBT_DIR) -> dict:
    """Write build.json beside `database`, the build just made; returns it.

    `inputs` is collect_inputs() taken before the build; if a partition or an identity
    output was republished while dbt ran, the build may have read either version, so the
    manifest says so (`inputs_stable: false`) and a rebuild of it is not promised exact."""
    after = {"raw": [{**r, "sha256": None} for r in _raw_locations(zones, reference_date)],
             "identity": identity_inputs(zones)}
    project = {str(p.relative_to(project_dir)): keep_object(zones, p) for p in project_files(project_dir)}
    stamp = code_stamp()  # before hashing: a file edited meanwhile makes releases hash afresh
    manifest = {
        "reference_date": reference_date,
        "warehouse": str(Path(database).relative_to(zones.data_dir)),
        "build_id": Path(database).parent.name,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "inputs_stable": _locations(inputs) == _locations(after),
        "code": code_version(),
        "dbt_vars": {k: v for k, v in sorted(dbt_vars.items()) if k not in LOCATION_VARS},
        "locations": {k: v for k, v in sorted(dbt_vars.items()) if k in LOCATION_VARS},
        **inputs,
        "dbt_project": project,
        "code_files": code_files(zones),  # the package and GX suites its releases run
        "code_stamp": stamp,
    }
    write_json_atomic(Path(database).with_name(BUILD_FILE), manifest)
    return manifest


def read_build(warehouse_db: Path) -> dict | None:
    """The manifest beside a warehouse file (None for a warehouse built before manifests)."""
    import json

    path = Path(warehouse_db).with_name(BUILD_FILE)
    return json.loads(path.read_text()) if path.exists() else None
