"""The dbt project and its manifest.

The manifest (dbt/target/manifest.json) must exist before the Dagster definitions load.
`make test` / `make run` run `dbt parse` first; under `dagster dev` the project is
re-parsed on load (as `prepare_if_dev` would), and anywhere else a missing or stale manifest
(older than a model, seed, macro or test) is rebuilt here with `dbt parse`, so the
definitions load in a fresh clone and after a checkout too. dbt is run
from the same environment as Dagster (`dbt_executable`), whether or not it is on PATH.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject
from dagster_dbt.dbt_project import using_dagster_dev

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"

DBT_PROJECT = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def dbt_executable() -> str:
    """The dbt beside this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def parse(project: DbtProject = DBT_PROJECT) -> Path:
    """`dbt parse`: write the manifest (no database connection, no data needed)."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(["parse", "--quiet", "--project-dir", str(project.project_dir),
                                 "--profiles-dir", str(project.profiles_dir)])
    if not result.success:
        raise RuntimeError(f"dbt parse failed in {project.project_dir}: {result.exception}")
    return project.manifest_path


# what dbt reads to build its manifest; target/, logs/ and packages are its own output
PROJECT_INPUTS = ("dbt_project.yml", "profiles.yml", "packages.yml", "models", "seeds",
                  "macros", "tests", "snapshots", "analyses")


def manifest_is_stale(project_dir: Path, manifest_path: Path) -> bool:
    """True when the manifest is missing or older than any file dbt parses.

    A manifest left by an earlier checkout names models, columns and tests that no longer
    exist (or misses new ones), and Dagster builds its assets and checks from it: a dbt
    build selected from a stale manifest fails or silently skips models."""
    if not manifest_path.exists():
        return True
    built = manifest_path.stat().st_mtime
    for name in PROJECT_INPUTS:
        path = project_dir / name
        files = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        if any(f.is_file() and f.stat().st_mtime > built for f in files):
            return True
    return False


def ensure_manifest(project: DbtProject = DBT_PROJECT) -> Path:
    """The manifest path, parsing the project first under `dagster dev`, or when the
    manifest is missing or older than the project's files."""
    if using_dagster_dev() or manifest_is_stale(Path(project.project_dir), Path(project.manifest_path)):
        parse(project)
    return project.manifest_path


DOCS_PATH = "warehouse/docs/index.html"  # the docs site's page, under the data directory


