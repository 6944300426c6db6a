"""A past release is rebuilt byte for byte after the world has moved on.

On the session's 3,000-person ICS (its landing zone and truth read, never written): ingest up
to month M, link (stand-in identity), build the warehouse as of M through its Dagster asset and
publish every registered project (each with its call lists). Then a new month lands: ingest
it, relink (new identity versions: keys for the new records, new contact details), build the
warehouse as of the new month and publish two projects again (their trend and uptake read
month M's releases). Month M is then built again (after the relink): a new build folder, the
first build untouched. Then the Dagster job `rebuild_release` rebuilds every month-M release
from its recorded inputs and code (the recorded package, run in a subprocess) into a scratch
folder and every published file's SHA-256 must equal the original's; nothing outside the
scratch folder changes; and a tampered input is refused by the CLI.
"""

from __future__ import annotations

import json
import os

import pytest

from dagster_project.cohorts import contacts, publish, rebuild
from dagster_project.cohorts.registry import load_projects
from dagster_project.lib.files import sha256_file
from dagster_project.lib.zones import Zones
from dagster_project.ops.jobs import execute_job
from dagster_project.sources.ingest import ingest_partition
from dagster_project.sources.landing import discover_extracts
from dagster_project.sources.registry import load_registry
from dagster_project.warehouse.builds import builds_of
from tests.dbt.identity_standin import write_standin_identity

pytestmark = pytest.mark.slow
PROJECTS = list(load_projects())  # every registered project is released and rebuilt
AGAIN = ["flu_vaccination", "cervical_screening"]  # released again a month later


def ingest(zones: Zones, dates: set[str]) -> None:
    for spec in load_registry().values():
        for d in discover_extracts(zones.landing, spec.source).dates:
            if d in dates:
                assert ingest_partition(zones, spec, d).published, (spec.name, d)


def link_and_publish(zones: Zones, reference_date: str | None, projects: list[str]) -> None:
    from dagster_project.warehouse.build import materialise_warehouse

    write_standin_identity(zones)
    contacts.build_contact_details(zones)
    assert materialise_warehouse(zones, reference_date=reference_date).success
    for project in projects:
        publish.publish_project(zones, load_projects()[project], run_id="test")


def tree(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_past_release_is_rebuilt_byte_for_byte_after_a_new_month_a_relink_and_a_rebuild_of_its_month(
        small_ics: Zones, tmp_path, monkeypatch, capsys):
    from dagster_project.warehouse.build import make_current, materialise_warehouse

    zones = Zones.at(tmp_path / "data", landing=small_ics.landing)
    zones.data_dir.mkdir(parents=True)
    os.symlink(small_ics.truth, zones.truth)  # the stand-in identity keys records from truth
    monkeypatch.setenv("PHM_DATA_DIR", str(zones.data_dir))
    dates = sorted(discover_extracts(zones.landing, "gp").dates)
    month, newer = dates[-2], dates[-1]

    ingest(zones, set(dates[:-1]))
    link_and_publish(zones, month, PROJECTS)
    keys_then = (zones.identity / "pseudo_keys.parquet").resolve()
    contacts_then = (zones.identity / "contact_details.parquet").resolve()
    first_build = zones.warehouse_at(month)
    warehouse_then = sha256_file(first_build)
    built = json.loads(first_build.with_name("build.json").read_text())
    assert built["reference_date"] == month and built["inputs_stable"] and built["build_id"] == first_build.parent.name
    assert all(r["extract_date"] <= month for r in built["raw"]) and built["identity"]["pseudo_keys.parquet"]
    assert any(name.startswith("seeds/") for name in built["dbt_project"])
    originals = {p: rebuild.published_files(zones.published / p / month) for p in PROJECTS}
    for project, files in originals.items():
        assert project not in AGAIN or any(name.startswith("direct_care/") for name in files), project
        assert {"cohort.parquet", "evidence.parquet", "summary.csv", "report.html"} <= set(files)
        recorded = json.loads((zones.published / project / month / "release.json").read_text())["files"]
        assert recorded == files  # release.json hashes exactly the published files
        used = json.loads((zones.published / project / month / "inputs.json").read_text())
        assert "dagster_project/cohorts/publish.py" in used["code_files"]  # the release code, kept

    # a month later: new extracts, a relink, a new warehouse and new releases
    ingest(zones, {newer})
    link_and_publish(zones, None, AGAIN)
    assert (zones.identity / "pseudo_keys.parquet").resolve() != keys_then  # identity moved on
    assert (zones.identity / "contact_details.parquet").resolve() != contacts_then
    assert keys_then.exists() and contacts_then.exists()  # ... and kept its past versions
    assert zones.warehouse_db == zones.warehouse_at(newer)  # readers see the newest build
    assert sha256_file(first_build) == warehouse_then  # month M's was not touched
    assert publish.latest(zones, AGAIN[0])["run_date"] == newer

    # month M built again (after the relink): its own folder; the first build stays as it was
    assert materialise_warehouse(zones, reference_date=month).success
    second_build = zones.warehouse_at(month)
    assert second_build != first_build and builds_of(zones, month) == [first_build.parent, second_build.parent]
    assert sha256_file(first_build) == warehouse_then and first_build.with_name("build.json").exists()
    make_current(zones, newer)
    live = {"published": tree(zones.published), "warehouse": tree(zones.warehouse / month),
            "identity": tree(zones.identity)}

    # the Dagster job rebuilds every month-M release from what it recorded (incl. its code)
    scratch = tmp_path / "rebuild"
    result = execute_job("rebuild_release", zones=zones, run_config={"ops": {"rebuild_and_compare": {
        "config": {"run_date": month, "scratch": str(scratch)}}}})
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    summary = result.output_for_node("rebuild_and_compare")
    assert sorted(summary) == sorted(PROJECTS)
    for project, files in originals.items():
        done = summary[project]
        assert done["identical"] == len(files), (project, done)
        assert not (done["different"] or done["missing"] or done["extra"]), (project, done)
        assert done["code_restored"], project  # published by the recorded package, not today's
    assert (scratch / "build-1" / "dagster_project" / "cohorts" / "publish.py").exists()
    assert live == {"published": tree(zones.published), "warehouse": tree(zones.warehouse / month),
                    "identity": tree(zones.identity)}  # the rebuild wrote only to its scratch folder

    # an input that no longer has its recorded bytes is refused, not silently rebuilt
    contacts_then.chmod(0o644)
    contacts_then.write_bytes(contacts_then.read_bytes() + b"tampered")
    assert rebuild.main(["--run-date", month, "--data-dir", str(zones.data_dir), "--project", PROJECTS[0],
                         "--scratch", str(tmp_path / "rebuild-2")]) == 2
    assert "contact_details" in capsys.readouterr().err
    refused = execute_job("rebuild_release", zones=zones, run_config={"ops": {"rebuild_and_compare": {
        "config": {"run_date": month, "projects": [PROJECTS[0]], "scratch": str(tmp_path / "rebuild-3")}}}})
    assert not refused.success  # the job fails too, naming the input
    failure = next(e for e in refused.all_events if e.is_step_failure)
    assert "contact_details" in str(failure.event_specific_data.error)
