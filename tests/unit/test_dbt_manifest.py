"""The dbt manifest is re-parsed when missing or older than the files dbt reads."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_project.warehouse.project import manifest_is_stale


def _touch(path: Path, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    os.utime(path, (mtime, mtime))


def test_manifest_is_stale_when_missing_or_older_than_a_project_file(tmp_path: Path):
    manifest = tmp_path / "target" / "manifest.json"
    _touch(tmp_path / "dbt_project.yml", 1_000)
    _touch(tmp_path / "models" / "marts" / "a.sql", 1_000)
    assert manifest_is_stale(tmp_path, manifest)  # missing
    _touch(manifest, 2_000)
    assert not manifest_is_stale(tmp_path, manifest)
    _touch(tmp_path / "target" / "run_results.json", 3_000)  # dbt's own output: ignored
    _touch(tmp_path / "logs" / "dbt.log", 3_000)
    assert not manifest_is_stale(tmp_path, manifest)
    _touch(tmp_path / "seeds" / "codelists" / "c.csv", 3_000)  # a changed seed
    assert manifest_is_stale(tmp_path, manifest)
    _touch(manifest, 4_000)
    _touch(tmp_path / "dbt_project.yml", 5_000)  # a changed project file
    assert manifest_is_stale(tmp_path, manifest)
