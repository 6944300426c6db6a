"""`dbt docs generate` after a warehouse build starts from the build's parse
(warehouse/assets.reuse_parse): dbt accepts the copied parse cache for the same vars and
parses nothing again, and still parses everything when the vars differ (a stale cache is
harmless). Two `dbt parse` runs of the real project, no database."""

from __future__ import annotations

import json
import subprocess

import pytest

from dagster_project.warehouse.assets import PARTIAL_PARSE, reuse_parse
from dagster_project.warehouse.project import DBT_DIR, dbt_executable

pytestmark = pytest.mark.slow


def parse(target, variables: dict) -> dict:
    subprocess.run([dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_DIR), "--profiles-dir",
                    str(DBT_DIR), "--target-path", str(target), "--vars", json.dumps(variables)],
                   check=True, capture_output=True, env={"DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                                                         "PATH": "/usr/bin:/bin"})
    return json.loads((target / "perf_info.json").read_text())


def test_docs_reuse_the_builds_parse(tmp_path):
    variables = {"reference_date": "2026-10-01", "data_dir": str(tmp_path),
                 "warehouse_path": str(tmp_path / "w" / "warehouse.duckdb")}
    build, docs = tmp_path / "build-target", tmp_path / "docs"
    assert parse(build, variables)["parsed_path_count"] > 200  # a first parse reads every file
    reuse_parse(build, docs)
    assert (docs / PARTIAL_PARSE).read_bytes() == (build / PARTIAL_PARSE).read_bytes()
    assert parse(docs, variables)["parsed_path_count"] == 0  # the same vars: nothing parsed again
    reuse_parse(build, docs)
    assert parse(docs, {**variables, "reference_date": "2026-11-01"})["parsed_path_count"] > 200
    reuse_parse(tmp_path / "no-build", tmp_path / "docs-2")  # a build without a cache: nothing to copy
    assert not (tmp_path / "docs-2").exists()
