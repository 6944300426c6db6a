"""Bad extracts: each is stopped (or flagged) with a reason naming file, column/row and rule;
nothing is published from it; the last good partition stays byte-for-byte as it was; the
delivered file is untouched; and the supplier's corrected file then loads."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import polars as pl
import pytest

from dagster_project.sources import raw_zone
from dagster_project.sources.ingest import ingest_partition
from dagster_project.sources.registry import load_registry
from tests.conftest import patients_frame, write_landing

GOOD, BAD = "2026-10-01", "2026-11-01"
SPEC = load_registry()["gp__patients"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def published(zones):
    """A good extract already published for GOOD."""
    write_landing(zones, "gp", "patients", GOOD, patients_frame())
    assert ingest_partition(zones, SPEC, GOOD).published
    return raw_zone.partition_file(zones.raw, SPEC, GOOD)


def _csv(frame: pl.DataFrame) -> str:
    return frame.write_csv()


def _assert_stopped(zones, published: Path, delivered: Path, rule: str, where: str | None = None):
    before_raw, before_landing = _digest(published), _digest(delivered)
    mtime = delivered.stat().st_mtime_ns
    result = ingest_partition(zones, SPEC, BAD)
    assert not result.published
    assert str(delivered) in result.reason and rule in result.reason, result.reason
    if where:
        assert where in result.reason, result.reason
    # nothing published for the bad extract; the good partition unchanged
    assert raw_zone.published_dates(zones.raw, SPEC) == [GOOD]
    assert _digest(published) == before_raw
    # the delivered file untouched, a copy and the report in quarantine
    assert _digest(delivered) == before_landing and delivered.stat().st_mtime_ns == mtime
    assert (result.quarantine_path / "report.json").exists()
    assert (result.quarantine_path / delivered.name).exists()
    assert not list(raw_zone.partition_dir(zones.raw, SPEC, BAD).glob(".staging-*"))
    # the supplier resends a corrected file: the next run loads it
    write_landing(zones, "gp", "patients", BAD, patients_frame())
    assert ingest_partition(zones, SPEC, BAD).published
    assert raw_zone.published_dates(zones.raw, SPEC) == [GOOD, BAD]
    return result


def test_empty_file(zones, published):
    delivered = write_landing(zones, "gp", "patients", BAD, b"")
    _assert_stopped(zones, published, delivered, "file not empty")


def test_header_only_snapshot_is_blocked(zones, published):
    delivered = write_landing(zones, "gp", "patients", BAD, _csv(patients_frame().head(0)))
    _assert_stopped(zones, published, delivered, "extract has rows")


def test_header_only_increment_is_a_warning_not_a_block(zones):
    spec = load_registry()["outreach__outcomes"]
    write_landing(zones, "outreach", "outcomes", GOOD,
                  "project,pseudo_id,practice_code,contact_date,channel,outcome\n")
    result = ingest_partition(zones, spec, GOOD)
    assert result.published and result.rows == 0
    assert [o.rule for o in result.suite.warnings] == ["increment has rows"]


def test_truncated_last_line(zones, published):
    text = _csv(patients_frame())
    delivered = write_landing(zones, "gp", "patients", BAD, text[: text.rstrip().rfind(",") - 3])
    result = _assert_stopped(zones, published, delivered, "every row has the header's columns", "line 201")
    assert "truncated" in str(result.error)


def test_wrong_delimiter(zones, published):
    delivered = write_landing(zones, "gp", "patients", BAD, patients_frame().write_csv(separator=";"))
    _assert_stopped(zones, published, delivered, "comma-separated")


def test_required_column_missing(zones, published):
    delivered = write_landing(zones, "gp", "patients", BAD, _csv(patients_frame().drop("date_of_birth")))
    _assert_stopped(zones, published, delivered, "required columns present", "'date_of_birth'")


def test_unknown_extra_column_is_accepted_and_reported(zones, published):
    write_landing(zones, "gp", "patients", BAD, _csv(patients_frame().with_columns(pl.lit("x").alias("gp_usual"))))
    result = ingest_partition(zones, SPEC, BAD)
    assert result.published and result.extra_columns == ["gp_usual"]
    assert "gp_usual" in pl.read_parquet(result.raw_path).columns
    assert any("gp_usual" in w for w in result.warnings)


def test_non_utf8_bytes(zones, published):
    text = _csv(patients_frame()).replace("Smith", "Sm\xefth", 1)  # the first data row, line 2
    delivered = write_landing(zones, "gp", "patients", BAD, text.encode("latin-1"))
    _assert_stopped(zones, published, delivered, "UTF-8 encoding", "line 2")


def test_byte_order_mark_is_accepted_with_a_warning(zones, published):
    write_landing(zones, "gp", "patients", BAD, b"\xef\xbb\xbf" + _csv(patients_frame()).encode())
    result = ingest_partition(zones, SPEC, BAD)
    assert result.published
    assert "patient_id" in pl.read_parquet(result.raw_path).columns
    assert any("byte-order mark" in w for w in result.warnings)


def test_duplicate_record_ids(zones, published):
    frame = patients_frame()
    delivered = write_landing(zones, "gp", "patients", BAD, _csv(pl.concat([frame, frame.head(3)])))
    result = _assert_stopped(zones, published, delivered, "record ids unique")
    failure = next(o for o in result.suite.blocking_failures if o.rule == "record ids unique")
    assert failure.unexpected_count == 6 and failure.sample_rows  # both copies of each id
    assert "nhs_number" not in failure.sample_rows[0]  # samples carry no identifiers


def test_a_few_future_dates_warn_many_block(zones, published):
    few = patients_frame(2000)
    few = few.with_columns(few["date_of_birth"].scatter([5], "2099-01-01"))
    write_landing(zones, "gp", "patients", BAD, _csv(few))
    result = ingest_partition(zones, SPEC, BAD)
    assert result.published
    assert any("not in the future" in o.rule and o.unexpected_count == 1 for o in result.suite.warnings)
    many = patients_frame().with_columns(pl.lit("2099-01-01").alias("date_of_birth"))
    delivered = write_landing(zones, "gp", "patients", "2026-12-01", _csv(many))
    result = ingest_partition(zones, SPEC, "2026-12-01")
    assert not result.published and "not in the future" in result.reason and "'date_of_birth'" in result.reason
    assert delivered.exists()


def test_invalid_nhs_numbers_flag_below_and_block_above_threshold(zones, published):
    frame = patients_frame(1000)
    one_bad = frame.with_columns(frame["nhs_number"].scatter([0], "9990000000"))
    write_landing(zones, "gp", "patients", BAD, _csv(one_bad))
    result = ingest_partition(zones, SPEC, BAD)
    assert result.published
    assert any("modulus 11" in o.rule for o in result.suite.warnings)
    many_bad = frame.with_columns(frame["nhs_number"].scatter(list(range(50)), "9990000000"))
    write_landing(zones, "gp", "patients", "2026-12-01", _csv(many_bad))
    result = ingest_partition(zones, SPEC, "2026-12-01")
    assert not result.published and "modulus 11" in result.reason and "50 row(s)" in result.reason


def test_unknown_sex_codes(zones, published):
    frame = patients_frame()
    delivered = write_landing(zones, "gp", "patients", BAD, _csv(frame.with_columns(frame["sex"].scatter(list(range(30)), "9"))))
    _assert_stopped(zones, published, delivered, "sex is an allowed value", "'sex'")


def test_a_rate_rule_needs_more_than_a_handful_of_rows_to_block(zones, published):
    # 3 unknown sex codes in 200 rows is 1.5%, above the 1% rate, but only 3 rows: a warning
    frame = patients_frame()
    write_landing(zones, "gp", "patients", BAD, _csv(frame.with_columns(frame["sex"].scatter([1, 2, 3], "9"))))
    result = ingest_partition(zones, SPEC, BAD)
    assert result.published
    assert any(o.rule.startswith("sex is an allowed value") for o in result.suite.warnings)


def test_row_volume_dropping_by_90_percent(zones, published):
    delivered = write_landing(zones, "gp", "patients", BAD, _csv(patients_frame().head(20)))
    _assert_stopped(zones, published, delivered, "row volume not collapsed")


def test_corrupt_gzip(zones, published):
    folder = zones.landing / "gp" / BAD
    folder.mkdir(parents=True)
    delivered = folder / "patients.csv.gz"
    delivered.write_bytes(gzip.compress(_csv(patients_frame()).encode())[:300])
    result = ingest_partition(zones, SPEC, BAD)
    assert not result.published and "gzip" in result.reason and str(delivered) in result.reason
    delivered.write_bytes(gzip.compress(_csv(patients_frame()).encode()))  # supplier resends
    assert ingest_partition(zones, SPEC, BAD).published


def test_parquet_with_wrong_types(zones, published):
    folder = zones.landing / "gp" / BAD
    folder.mkdir(parents=True)
    delivered = folder / "patients.parquet"
    patients_frame().with_columns(pl.lit(19500101).alias("date_of_birth")).write_parquet(delivered)
    result = ingest_partition(zones, SPEC, BAD)
    assert not result.published
    assert "column types match the contract" in result.reason and "'date_of_birth'" in result.reason
    patients_frame().with_columns(pl.col("date_of_birth").str.to_date()).write_parquet(delivered)
    assert ingest_partition(zones, SPEC, BAD).published


def test_folder_name_that_is_not_a_date(zones, published):
    from dagster_project.lib.errors import ExtractError
    from dagster_project.sources.landing import discover_extracts, find_table_file

    write_landing(zones, "gp", "patients", "2026-13-01", _csv(patients_frame()))
    write_landing(zones, "gp", "patients", "latest", _csv(patients_frame()))
    found = discover_extracts(zones.landing, "gp")
    assert found.dates == [GOOD]
    assert sorted(p.name for p in found.invalid) == ["2026-13-01", "latest"]
    with pytest.raises(ExtractError, match="not an ISO date"):
        find_table_file(zones.landing / "gp" / "latest", "patients")


def test_unparseable_date_names_the_line(zones, published):
    frame = patients_frame()
    delivered = write_landing(zones, "gp", "patients", BAD, _csv(frame.with_columns(frame["date_of_birth"].scatter([7], "31/12/1950"))))
    _assert_stopped(zones, published, delivered, "date values parse", "line 9")
