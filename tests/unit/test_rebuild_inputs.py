"""The build manifest and the rebuild's restore step, without dbt (fast).

The end-to-end byte-for-byte rebuild (dbt build, publish, compare) is
tests/integration/test_rebuild.py."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from dagster_project.cohorts import rebuild
from dagster_project.lib.files import write_parquet_versioned
from dagster_project.lib.zones import Zones
from dagster_project.sources.ingest import ingest_partition
from dagster_project.sources.registry import load_registry
from dagster_project.warehouse import manifest
from tests.conftest import patients_frame, write_landing


def built(zones: Zones) -> dict:
    for d, n in (("2026-10-01", 40), ("2026-11-01", 50)):
        write_landing(zones, "gp", "patients", d, patients_frame(n))
        assert ingest_partition(zones, load_registry()["gp__patients"], d).published
    write_parquet_versioned(pl.DataFrame({"pseudo_id": ["a", "b"]}), zones.identity / "pseudo_keys.parquet")
    pl.DataFrame({"pseudo_id": ["b"]}).write_parquet(zones.identity / "opt_outs.parquet")  # unversioned writer
    inputs = manifest.collect_inputs(zones, "2026-10-01")
    database = zones.warehouse_build("2026-10-01", "20261001T000000Z-test")
    database.parent.mkdir(parents=True)
    return manifest.record_build(zones, "2026-10-01", {"reference_date": "2026-10-01",
                                                       "data_dir": str(zones.data_dir)}, inputs, database)


def test_a_build_records_its_inputs_by_content(zones: Zones):
    recorded = built(zones)
    on_disk = json.loads((zones.warehouse / "2026-10-01/20261001T000000Z-test/build.json").read_text())
    assert on_disk == recorded and recorded["inputs_stable"] and recorded["build_id"] == "20261001T000000Z-test"
    assert [(r["table"], r["extract_date"]) for r in recorded["raw"]] == [("gp__patients", "2026-10-01")]
    assert recorded["raw"][0]["path"].endswith("versions/0001/data.parquet")
    assert set(recorded["identity"]) == {"pseudo_keys.parquet", "opt_outs.parquet"}  # plain file adopted
    assert (zones.identity / "opt_outs.parquet").is_symlink()
    assert recorded["dbt_vars"] == {"reference_date": "2026-10-01"} and "data_dir" in recorded["locations"]
    seeds = [name for name in recorded["dbt_project"] if name.startswith("seeds/")]
    assert "seeds/parameters/risk_coefficients.csv" in seeds and "dbt_project.yml" in recorded["dbt_project"]
    assert all(manifest.object_path(zones, d).exists() for d in recorded["dbt_project"].values())
    assert recorded["code"]["libraries"]["duckdb"]


def test_restore_lays_out_exactly_the_recorded_versions_and_refuses_a_changed_one(zones: Zones, tmp_path):
    recorded = built(zones)
    keys_then = (zones.identity / "pseudo_keys.parquet").resolve()
    write_parquet_versioned(pl.DataFrame({"pseudo_id": ["a", "b", "c"]}), zones.identity / "pseudo_keys.parquet")
    code = manifest.code_files(zones)
    assert "dagster_project/cohorts/publish.py" in code and "expectations/cohort_release.json" in code
    assert not any("__pycache__" in name for name in code)
    used = {"project": "flu_vaccination", "warehouse_build": recorded, "identity": {}, "earlier_releases": {},
            "code_files": code}
    scratch = Zones.at(tmp_path / "scratch" / "data")
    project_dir = rebuild.restore(zones, used, scratch)
    assert (scratch.identity / "pseudo_keys.parquet").resolve() == keys_then  # not the relinked one
    assert pl.read_parquet(scratch.identity / "pseudo_keys.parquet").height == 2
    raw = sorted(p.relative_to(scratch.raw).as_posix() for p in scratch.raw.rglob("data.parquet"))
    assert raw == ["gp/patients/extract_date=2026-10-01/data.parquet"]  # nothing after the date
    assert (project_dir / "dbt_project.yml").exists() and (project_dir / "seeds/parameters/risk_coefficients.csv").exists()
    package = project_dir.parent / "dagster_project"  # the release code, beside its dbt project
    assert (package / "cohorts/publish.py").read_bytes() == Path(rebuild.__file__).with_name("publish.py").read_bytes()
    assert (project_dir.parent / "expectations/cohort_release.json").exists()

    keys_then.chmod(0o644)
    keys_then.write_bytes(keys_then.read_bytes() + b"x")
    with pytest.raises(rebuild.InputsChanged, match="pseudo_keys"):
        rebuild.restore(zones, used, Zones.at(tmp_path / "scratch-2" / "data"))


def test_the_report_names_libraries_that_moved_since_the_release():
    recorded = {"python": "3.11.9", "libraries": {"duckdb": "1.5.0", "polars": "1.30.0", "dbt-core": None}}
    now = {"python": "3.11.9", "libraries": {"duckdb": "1.5.1", "polars": "1.30.0", "dbt-core": "1.11.2"}}
    assert rebuild.library_changes(recorded, now) == {"duckdb": ("1.5.0", "1.5.1")}  # unknown then: not claimed
    done = rebuild.Rebuilt("flu_vaccination", "2026-10-01", Path("a"), Path("b"), identical=["summary.csv"],
                           libraries_changed={"duckdb": ("1.5.0", "1.5.1")})
    assert "duckdb 1.5.0 -> 1.5.1" in done.report() and done.exact
    assert manifest.code_version()["python"]



def test_a_build_takes_raw_digests_from_the_ingest_audit_not_the_files(zones: Zones, monkeypatch):
    from dagster_project.lib.files import sha256_file
    from dagster_project.sources import raw_zone

    spec = load_registry()["gp__patients"]
    write_landing(zones, "gp", "patients", "2026-10-01", patients_frame(30))
    assert ingest_partition(zones, spec, "2026-10-01").published
    audit = raw_zone.read_audit(zones.raw, spec, "2026-10-01")
    data = raw_zone.partition_file(zones.raw, spec, "2026-10-01")
    assert audit[raw_zone.DATA_SHA256] == sha256_file(data) != audit["sha256"]  # the parquet's, not the CSV's
    expected = manifest.raw_inputs(zones, "2026-10-01")[0]["sha256"]
    assert expected == audit[raw_zone.DATA_SHA256]

    read: list[Path] = []
    monkeypatch.setattr(manifest, "sha256_file", lambda p: read.append(p) or sha256_file(p))
    assert manifest.raw_inputs(zones, "2026-10-01")[0]["sha256"] == expected and read == []
    # a version published before audits held its digest is read from the file
    audit_path = data.resolve().with_name(raw_zone.AUDIT_FILE)
    audit_path.chmod(0o644)
    audit_path.write_text(json.dumps({k: v for k, v in audit.items() if k != raw_zone.DATA_SHA256}))
    assert manifest.raw_inputs(zones, "2026-10-01")[0]["sha256"] == expected and read == [data.resolve()]


def test_releases_reference_the_builds_code_map_until_a_file_changes(zones: Zones, tmp_path, monkeypatch):
    recorded = built(zones)
    assert recorded["code_files"] == manifest.code_files(zones) and recorded["code_stamp"]
    assert "dagster_project/cohorts/publish.py" in recorded["code_files"]

    hashed: list[Path] = []
    keep = manifest.keep_object
    monkeypatch.setattr(manifest, "keep_object", lambda z, p: hashed.append(p) or keep(z, p))
    assert manifest.release_code_files(zones, recorded) is recorded["code_files"] and hashed == []
    assert manifest.release_code_files(zones, None) == recorded["code_files"] and hashed  # no build: hashed

    # a file of the release code changed after the build: the release hashes what it runs
    monkeypatch.setattr(manifest, "REPO", tmp_path)
    (tmp_path / "pkg").mkdir()
    module = tmp_path / "pkg" / "module.py"
    module.write_text("A = 1\n")
    monkeypatch.setattr(manifest, "CODE_FOLDERS", (tmp_path / "pkg",))
    build = {"code_files": manifest.code_files(zones), "code_stamp": manifest.code_stamp()}
    assert manifest.release_code_files(zones, build) is build["code_files"]
    module.write_text("A = 22\n")
    changed = manifest.release_code_files(zones, build)
    assert changed["pkg/module.py"] != build["code_files"]["pkg/module.py"]
    assert manifest.object_path(zones, changed["pkg/module.py"]).read_text() == "A = 22\n"
