"""Landing hygiene: what is refused before a byte of it is read (future-dated folders,
symbolic links), what is reported rather than silently skipped (files that are no table),
what is normalised (NHS number formatting), and what a rejection leaves behind (nothing)."""

from __future__ import annotations

import datetime as dt
import json
import os

import polars as pl
import pytest

from dagster_project.sources import landing, raw_zone
from dagster_project.sources.automation import alert_new_problems, new_extract_requests
from dagster_project.sources.ingest import ingest_partition
from dagster_project.sources.registry import load_registry
from tests.conftest import patients_frame, write_landing

SPEC = load_registry()["gp__patients"]
GOOD = "2026-10-01"


def _future(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def _everything_under(root) -> bytes:
    """Every byte of every regular file under root (what an auditor would grep)."""
    out = b""
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                with open(path, "rb") as fh:
                    out += fh.read()
    return out


def test_future_dated_folder_is_refused_and_never_becomes_newest(zones):
    write_landing(zones, "gp", "patients", GOOD, patients_frame())
    write_landing(zones, "gp", "patients", "2099-01-01", patients_frame())
    found = landing.discover_extracts(zones.landing, "gp")
    assert found.dates == [GOOD] and [p.name for p in found.future] == ["2099-01-01"]
    _, runs, problems = new_extract_requests(zones, {})
    assert [r.partition_key for r in runs] == [GOOD]
    assert any("2099-01-01" in p and "future" in p for p in problems)
    # loaded by hand (a backfill naming the date): refused at the gate and quarantined
    result = ingest_partition(zones, SPEC, "2099-01-01")
    assert not result.published and "extract date not in the future" in result.reason
    assert (result.quarantine_path / "report.json").exists()
    assert ingest_partition(zones, SPEC, GOOD).published
    assert raw_zone.published_dates(zones.raw, SPEC) == [GOOD]
    assert not raw_zone.partition_dir(zones.raw, SPEC, "2099-01-01").exists()


def test_future_tolerance_is_configurable(zones, monkeypatch):
    tomorrow_plus = _future(5)
    write_landing(zones, "gp", "patients", tomorrow_plus, patients_frame())
    assert landing.discover_extracts(zones.landing, "gp").dates == []  # default tolerance: 3 days
    monkeypatch.setenv(landing.FUTURE_TOLERANCE_ENV, "7")
    assert landing.discover_extracts(zones.landing, "gp").dates == [tomorrow_plus]


def test_symlinked_folder_and_file_are_refused_without_being_read_or_copied(zones, tmp_path):
    secret = "9990001112,Secret,Person,1950-01-01"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "patients.csv").write_text(
        patients_frame(3).write_csv().replace("Alice", "Outsidername"))
    (outside / "secret.txt").write_text(secret)
    # a whole extract folder that is a link
    (zones.landing / "gp").mkdir(parents=True)
    (zones.landing / "gp" / "2026-09-01").symlink_to(outside, target_is_directory=True)
    # a table file that is a link inside a real folder
    real = zones.landing / "gp" / GOOD
    real.mkdir()
    (real / "patients.csv").symlink_to(outside / "patients.csv")
    found = landing.discover_extracts(zones.landing, "gp")
    assert found.dates == [GOOD] and [p.name for p in found.unsafe] == ["2026-09-01"]
    _, _, problems = new_extract_requests(zones, {})
    assert any("2026-09-01" in p and "symbolic link" in p for p in problems)
    for extract_date in ("2026-09-01", GOOD):
        result = ingest_partition(zones, SPEC, extract_date)
        assert not result.published and "no symbolic links in landing" in result.reason, result.reason
        assert not any(p.name == "patients.csv" for p in result.quarantine_path.iterdir())
    written = _everything_under(zones.data_dir)
    assert b"Outsidername" not in written and secret.encode() not in written
    assert raw_zone.published_dates(zones.raw, SPEC) == []


def test_unknown_table_file_is_reported_in_the_ui_the_sensor_and_an_alert(zones):
    write_landing(zones, "gp", "patients", GOOD, patients_frame())
    (zones.landing / "gp" / GOOD / "appointments.csv").write_text("a,b\n1,2\n")
    result = ingest_partition(zones, SPEC, GOOD)
    assert result.published
    assert any("appointments.csv" in w and "not loaded" in w for w in result.warnings)
    _, _, problems = new_extract_requests(zones, {})
    assert any("appointments.csv" in p for p in problems)
    fresh, cursor = alert_new_problems(zones, problems, None)
    assert fresh == problems
    alerts = (zones.data_dir / "alerts" / "alerts.jsonl").read_text().splitlines()
    assert "appointments.csv" in alerts[-1]
    again, _ = alert_new_problems(zones, problems, cursor)  # alerted once, not every minute
    assert again == [] and len((zones.data_dir / "alerts" / "alerts.jsonl").read_text().splitlines()) == 1


def test_nhs_number_formatting_variants_are_normalised_not_modulus_failures(zones):
    frame = patients_frame()
    numbers = frame["nhs_number"].to_list()
    variants = [f"{n[:3]} {n[3:6]} {n[6:]}" for n in numbers[:5]] + [f"'{n}" for n in numbers[5:10]] + \
               [f"{n[:3]}-{n[3:6]}-{n[6:]}" for n in numbers[10:12]]
    frame = frame.with_columns(pl.Series("nhs_number", variants + numbers[12:]))
    write_landing(zones, "gp", "patients", GOOD, frame)
    result = ingest_partition(zones, SPEC, GOOD)
    assert result.published
    assert not any("modulus 11" in o.rule for o in result.suite.warnings)
    assert any("12 NHS number(s)" in w and "normalised" in w for w in result.warnings)
    assert pl.read_parquet(result.raw_path)["nhs_number"].to_list() == numbers


def test_a_rejected_extract_leaves_no_partition_folder(zones):
    write_landing(zones, "gp", "patients", GOOD, patients_frame().head(0))  # header only: blocked
    result = ingest_partition(zones, SPEC, GOOD)
    assert not result.published
    table_dir = zones.raw / "gp" / "patients"
    assert not raw_zone.partition_dir(zones.raw, SPEC, GOOD).exists()
    assert [p.name for p in table_dir.iterdir() if not p.name.startswith(".")] == []
    assert not any((table_dir / ".staging").iterdir())


def test_duplicate_header_column_is_quarantined_with_a_report(zones):
    text = patients_frame().write_csv()
    header, rest = text.split("\n", 1)
    write_landing(zones, "gp", "patients", GOOD, header.replace("given_name", "postcode") + "\n" + rest)
    result = ingest_partition(zones, SPEC, GOOD)
    assert not result.published and "column names unique" in result.reason and "'postcode'" in result.reason
    report = json.loads((result.quarantine_path / "report.json").read_text())
    assert report["error"]["rule"] == "column names unique"


@pytest.mark.parametrize("case", ["death_before_birth", "far_future_in_small_extract"])
def test_plausibility_rules_block_at_a_small_share(zones, case):
    frame = patients_frame(200)
    if case == "death_before_birth":
        bad = frame.with_columns(frame["date_of_death"].scatter([1, 2], "1901-01-01"))
        rule = "date of death not before date of birth"
    else:  # 2 rows of 200 dated 2099: once under the 10-row floor, loaded
        bad = frame.with_columns(frame["date_of_birth"].scatter([1, 2], "2099-01-01"))
        rule = "not in the future"
    write_landing(zones, "gp", "patients", GOOD, bad)
    result = ingest_partition(zones, SPEC, GOOD)
    assert not result.published and rule in result.reason, result.reason


def test_a_snapshot_40_percent_smaller_is_blocked_and_a_signed_override_lets_it_through_once(zones):
    write_landing(zones, "gp", "patients", GOOD, patients_frame(1000))
    assert ingest_partition(zones, SPEC, GOOD).published
    write_landing(zones, "gp", "patients", "2026-10-15", patients_frame(970))  # 3% fewer: churn
    assert ingest_partition(zones, SPEC, "2026-10-15").published
    write_landing(zones, "gp", "patients", "2026-11-01", patients_frame(600))  # 38% fewer than 970
    blocked = ingest_partition(zones, SPEC, "2026-11-01")
    assert not blocked.published and "row volume not collapsed" in blocked.reason
    override = zones.data_dir / "overrides" / "volume" / "gp" / "patients" / "2026-11-01.json"
    override.parent.mkdir(parents=True)
    override.write_text(json.dumps({"approved_by": "IG lead", "reason": "D82002 merged into D82001"}))
    passed = ingest_partition(zones, SPEC, "2026-11-01", run_id="override-run")
    assert passed.published and not override.exists()  # consumed: one time only
    audit = raw_zone.read_audit(zones.raw, SPEC, "2026-11-01")
    assert audit["volume_override"]["approved_by"] == "IG lead"
    assert audit["volume_override"]["used_by_run"] == "override-run"
    assert list((zones.data_dir / "overrides" / "volume" / "used").iterdir())
    write_landing(zones, "gp", "patients", "2026-12-01", patients_frame(500))  # 17% fewer, no override
    assert not ingest_partition(zones, SPEC, "2026-12-01").published
