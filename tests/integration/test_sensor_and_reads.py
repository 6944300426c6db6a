"""The landing sensor's decisions, and what downstream sees of the raw zone."""

from __future__ import annotations

import polars as pl

from dagster_project.sources import raw_zone
from dagster_project.sources.automation import new_extract_requests
from dagster_project.sources.ingest import ingest_partition
from dagster_project.sources.registry import load_registry
from tests.conftest import patients_frame, write_landing


def test_sensor_requests_only_new_date_folders_and_reports_bad_names(zones):
    write_landing(zones, "gp", "patients", "2026-10-01", patients_frame(5))
    write_landing(zones, "gp", "patients", "2026-11-01", patients_frame(5))
    write_landing(zones, "gp", "patients", "november", patients_frame(5))
    ingest_partition(zones, load_registry()["gp__patients"], "2026-10-01")
    partitions, runs, problems = new_extract_requests(zones, {"gp": {"2026-10-01"}})
    assert [(r.job_name, r.partition_key) for r in runs] == [("ingest_gp", "2026-11-01")]
    assert partitions[0].partition_keys == ["2026-11-01"]
    assert len(problems) == 1 and "november" in problems[0] and "not an ISO date" in problems[0]
    # known and not (yet) published: asked again under the same run key, which Dagster
    # runs once; the published one is not asked again
    _, again, _ = new_extract_requests(zones, {"gp": {"2026-10-01", "2026-11-01"}})
    assert [(r.partition_key, r.run_key) for r in again] == [(r.partition_key, r.run_key) for r in runs]


def test_sensor_notices_a_redelivered_file_under_a_known_date(zones):
    spec = load_registry()["gp__patients"]
    path = write_landing(zones, "gp", "patients", "2026-10-01", patients_frame(50))
    assert ingest_partition(zones, spec, "2026-10-01").published
    known = {"gp": {"2026-10-01"}}
    assert new_extract_requests(zones, known)[1] == []
    path.write_text(patients_frame(52).write_csv())  # the supplier resends with two more rows
    _, runs, _ = new_extract_requests(zones, known)
    assert [r.partition_key for r in runs] == ["2026-10-01"]
    assert runs[0].tags["trigger"] == "landing_sensor:redelivery"
    _, same, _ = new_extract_requests(zones, known)
    assert same[0].run_key == runs[0].run_key  # one run per delivery


def _publish(zones, spec, date, frame):
    staged = raw_zone.stage(frame, zones.raw, spec, date)
    raw_zone.publish(staged, zones.raw, spec, date, {"rows": frame.height})


def test_increments_keep_the_latest_version_of_each_record(zones):
    spec = load_registry()["acute__apc"]
    cols = {c: pl.Utf8 for c in spec.known_columns}
    first = pl.DataFrame({"spell_id": ["S1", "S2"], "discharge_date": [None, None]}, schema_overrides=cols)
    second = pl.DataFrame({"spell_id": ["S2", "S3"], "discharge_date": ["2026-10-20", None]}, schema_overrides=cols)
    _publish(zones, spec, "2026-10-01", first)
    _publish(zones, spec, "2026-11-01", second)
    seen = raw_zone.scan_published(zones.raw, spec).collect().sort("spell_id")
    assert seen["spell_id"].to_list() == ["S1", "S2", "S3"]
    assert seen.filter(pl.col("spell_id") == "S2")["discharge_date"].item() == "2026-10-20"


def test_snapshots_show_only_the_newest_extract(zones):
    spec = load_registry()["gp__patients"]
    _publish(zones, spec, "2026-10-01", patients_frame(10))
    _publish(zones, spec, "2026-11-01", patients_frame(7))
    assert raw_zone.scan_published(zones.raw, spec).collect().height == 7


def test_staging_files_are_never_read(zones):
    spec = load_registry()["gp__patients"]
    raw_zone.stage(patients_frame(3), zones.raw, spec, "2026-10-01")  # staged, never published
    assert raw_zone.published_dates(zones.raw, spec) == []
    assert raw_zone.scan_published(zones.raw, spec) is None
