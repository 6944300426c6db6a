"""A past release is rebuilt byte for byte after the world has moved on.

On the session's 3,000-person ICS (its landing zone and truth read, never written): ingest up
to month M, link (stand-in identity), build the warehouse as of M through its Dagster asset and
publish two projects with call lists. Then a new month lands: ingest it, relink (new identity
versions: keys for the new records, new contact details), build the warehouse as of the new
month and publish it. Then rebuild the month-M releases from their recorded inputs
(`python -m dagster_project.cohorts.rebuild`) into a scratch folder and require every
published file's SHA-256 to equal the original's; and a tampered input is refused.
"""

from __future__ import annotations

import json
import os

import pytest

from dagster_project.cohorts import contacts, publish, rebuild
from dagster_project.cohorts.registry import load_projects
from dagster_project.lib.files import sha256_file
from dagster_project.lib.zones import Zones
from dagster_project.sources.ingest import ingest_partition
from dagster_project.sources.landing import discover_extracts
from dagster_project.sources.registry import load_registry
from tests.dbt.identity_standin import write_standin_identity

pytestmark = pytest.mark.slow
PROJECTS = ["flu_vaccination", "cervical_screening"]  # both re-identify call lists


def ingest(zones: Zones, dates: set[str]) -> None:
    for spec in load_registry().values():
        for d in discover_extracts(zones.landing, spec.source).dates:
            if d in dates:
                assert ingest_partition(zones, spec, d).published, (spec.name, d)


def link_and_publish(zones: Zones, reference_date: str | None) -> None:
    from dagster_project.warehouse.build import materialise_warehouse

    write_standin_identity(zones)
    contacts.build_contact_details(zones)
    assert materialise_warehouse(zones, reference_date=reference_date).success
    for project in PROJECTS:
        publish.publish_project(zones, load_projects()[project], run_id="test")


def test_a_past_release_is_rebuilt_byte_for_byte_after_a_new_month_and_a_relink(
        small_ics: Zones, tmp_path, monkeypatch, capsys):
    zones = Zones.at(tmp_path / "data", landing=small_ics.landing)
    zones.data_dir.mkdir(parents=True)
    os.symlink(small_ics.truth, zones.truth)  # the stand-in identity keys records from truth
    monkeypatch.setenv("PHM_DATA_DIR", str(zones.data_dir))
    dates = sorted(discover_extracts(zones.landing, "gp").dates)
    month, newer = dates[-2], dates[-1]

    ingest(zones, set(dates[:-1]))
    link_and_publish(zones, month)
    keys_then = (zones.identity / "pseudo_keys.parquet").resolve()
    contacts_then = (zones.identity / "contact_details.parquet").resolve()
    warehouse_then = sha256_file(zones.warehouse_at(month))
    built = json.loads(zones.warehouse_at(month).with_name("build.json").read_text())
    assert built["reference_date"] == month and built["inputs_stable"]
    assert all(r["extract_date"] <= month for r in built["raw"]) and built["identity"]["pseudo_keys.parquet"]
    assert any(name.startswith("seeds/") for name in built["dbt_project"])
    originals = {p: rebuild.published_files(zones.published / p / month) for p in PROJECTS}
    for project, files in originals.items():
        assert any(name.startswith("direct_care/") for name in files), project
        assert {"cohort.parquet", "evidence.parquet", "summary.csv", "report.html"} <= set(files)
        recorded = json.loads((zones.published / project / month / "release.json").read_text())["files"]
        assert recorded == files  # release.json hashes exactly the published files

    # a month later: new extracts, a relink, a new warehouse and new releases
    ingest(zones, {newer})
    link_and_publish(zones, None)
    assert (zones.identity / "pseudo_keys.parquet").resolve() != keys_then  # identity moved on
    assert (zones.identity / "contact_details.parquet").resolve() != contacts_then
    assert keys_then.exists() and contacts_then.exists()  # ... and kept its past versions
    assert zones.warehouse_db == zones.warehouse_at(newer)  # readers see the newest build
    assert sha256_file(zones.warehouse_at(month)) == warehouse_then  # month M's was not touched
    assert publish.latest(zones, PROJECTS[0])["run_date"] == newer

    # rebuild month M's releases from what they recorded, compare every published file
    code = rebuild.main(["--run-date", month, "--data-dir", str(zones.data_dir),
                         "--scratch", str(tmp_path / "rebuild"), *[a for p in PROJECTS for a in ("--project", p)]])
    report = capsys.readouterr().out
    print(report)
    assert code == 0, report
    compared = sum(len(f) for f in originals.values())
    assert report.count("  identical  ") == compared and "DIFFERENT" not in report
    assert f"{len(PROJECTS)} of {len(PROJECTS)} release(s) rebuilt byte for byte" in report

    # an input that no longer has its recorded bytes is refused, not silently rebuilt
    contacts_then.chmod(0o644)
    contacts_then.write_bytes(contacts_then.read_bytes() + b"tampered")
    assert rebuild.main(["--run-date", month, "--data-dir", str(zones.data_dir), "--project", PROJECTS[0],
                         "--scratch", str(tmp_path / "rebuild-2")]) == 2
    assert "contact_details" in capsys.readouterr().err
