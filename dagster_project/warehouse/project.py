"""The dbt project and its manifest.

The manifest (dbt/target/manifest.json) must exist before the Dagster definitions load.
`make test` / `make run` run `dbt parse` first; under `dagster dev` the project is
re-parsed on load (as `prepare_if_dev` would), and anywhere else a missing manifest is
built here with `dbt parse`, so the definitions load in a fresh clone too. dbt is run
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


def ensure_manifest(project: DbtProject = DBT_PROJECT) -> Path:
    """The manifest path, parsing the project first under `dagster dev` or when missing."""
    if using_dagster_dev() or not project.manifest_path.exists():
        parse(project)
    return project.manifest_path


DOCS_PATH = "warehouse/docs/index.html"  # the docs site's page, under the data directory


