"""Every bad-input case through Dagster, then a scan of everything the platform wrote
outside the zones allowed to hold identifiers: the Dagster instance (run and event storage,
compute logs), validation reports, alerts and quarantine reports. None may contain an
identifier planted in the bad rows (the copy of the delivered file kept in quarantine, and
raw, are identifiable zones and are not scanned)."""

from __future__ import annotations

import gzip
import os

import dagster as dg
import polars as pl
import pytest

from dagster_project.ops import alerts
from dagster_project.resources import PlatformResource
from dagster_project.sources.assets import RAW_ASSETS
from dagster_project.sources.partitions import PARTITIONS
from tests.conftest import patients_frame

PLANTED = {
    "nhs_number": "9990000018",
    "given_name": "Quillonette",
    "family_name": "Zzyzxborough",
    "date_of_birth": "1937-04-23",
    "postcode": "NR99 9QZ",
    "phone": "07700 900777",
    "email": "quillonette.z@example.org",
}
PATIENTS = [a for a in RAW_ASSETS if a.key.path == ["raw", "gp", "patients"]][0]
GOOD = "2026-08-01"


def _frame(n: int = 300) -> pl.DataFrame:
    """A valid extract whose row 7 (file line 9) is the planted person."""
    frame = patients_frame(n)
    return frame.with_columns(
        *(frame[c].scatter([7], v).alias(c) for c, v in PLANTED.items()))


def _csv(frame: pl.DataFrame) -> str:
    return frame.write_csv()


def _line(text: str, number: int, change) -> str:
    lines = text.split("\n")
    lines[number - 1] = change(lines[number - 1])
    return "\n".join(lines)


def _cases() -> dict[str, object]:
    """Bad-input kind -> what lands (text, bytes, or ("parquet", frame))."""
    good = _frame()
    text = _csv(good)
    many_bad_nhs = good.with_columns(good["nhs_number"].scatter(list(range(8, 40)), "1234567890"))
    return {
        "short_row": _line(text, 9, lambda s: s.rsplit(",", 3)[0]),
        "long_row": _line(text, 9, lambda s: s + ",extra,fields"),
        "truncated_last_line": text.rstrip("\n") + "\n" + _csv(good.slice(7, 1)).split("\n")[1][:40],
        "unparseable_date_of_birth": _csv(good.with_columns(good["date_of_birth"].scatter([7], "23/04/1937 "
                                                                                          + PLANTED["given_name"]))),
        "non_utf8": _line(text, 9, lambda s: s.replace("Zzyzxborough", "Zzyzxborough\xe9")).encode("latin-1"),
        "missing_required_column": _csv(good.drop("sex")),
        "headerless_file": "\n".join(text.split("\n")[8:]),
        "duplicate_header": _line(text, 1, lambda s: s.replace("sex", "postcode")),
        "semicolon_delimited": good.write_csv(separator=";"),
        "invalid_nhs_numbers_above_threshold": _csv(many_bad_nhs.with_columns(
            many_bad_nhs["nhs_number"].scatter([7], PLANTED["nhs_number"][:-1] + "9"))),
        "future_dates_of_birth": _csv(good.with_columns(
            good["date_of_birth"].scatter(list(range(0, 300, 10)), "2099-01-01"))),
        "death_before_birth": _csv(good.with_columns(good["date_of_death"].scatter([7, 8, 9], "1901-01-01"))),
        "duplicate_record_ids": _csv(pl.concat([good, good.slice(7, 1)])),
        "unknown_sex_codes": _csv(good.with_columns(good["sex"].scatter(list(range(0, 300, 7)), "X"))),
        "bad_practice_code": _csv(good.with_columns(good["practice_code"].scatter([7], "nr1 1aa"))),
        "volume_collapse": _csv(good.head(20)),
        "corrupt_gzip": ("gz", gzip.compress(text.encode())[:400]),
        "parquet_wrong_types": ("parquet", good.with_columns(pl.lit(1.5).alias("date_of_birth"))),
        "empty_file": b"",
        "header_only": text.split("\n")[0] + "\n",
    }


CASES = _cases()


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    """Run every case as its own extract date through Dagster; return the zones and instance dir."""
    from dagster_project.lib.zones import Zones

    root = tmp_path_factory.mktemp("leaks")
    zones = Zones.at(root / "data")
    instance_dir = root / "dagster_home"
    instance_dir.mkdir()
    resources = {"platform": PlatformResource(data_dir=str(zones.data_dir))}
    results = {}
    with dg.instance_for_test(temp_dir=str(instance_dir)) as instance:
        dates = [GOOD] + [f"2026-09-{i + 1:02d}" for i in range(len(CASES))]
        instance.add_dynamic_partitions(PARTITIONS["gp"].name, dates)
        folder = zones.landing / "gp" / GOOD
        folder.mkdir(parents=True)
        _frame().write_csv(folder / "patients.csv")
        assert dg.materialize([PATIENTS], partition_key=GOOD, instance=instance, resources=resources).success
        for (name, content), date in zip(CASES.items(), dates[1:]):
            folder = zones.landing / "gp" / date
            folder.mkdir(parents=True)
            if isinstance(content, tuple) and content[0] == "parquet":
                content[1].write_parquet(folder / "patients.parquet")
            elif isinstance(content, tuple):
                (folder / "patients.csv.gz").write_bytes(content[1])
            elif isinstance(content, bytes):
                (folder / "patients.csv").write_bytes(content)
            else:
                (folder / "patients.csv").write_text(content)
            result = dg.materialize([PATIENTS], partition_key=date, instance=instance,
                                    resources=resources, raise_on_error=False)
            results[name] = result
            run = instance.get_run_by_id(result.run_id)
            failure = next((e.message for e in result.all_events if e.is_failure), None)
            if not result.success:
                alerts.append_alert(alerts.alert_for_run(instance, run, failure), alerts.alerts_file(zones))
    return zones, instance_dir, results


def test_every_bad_input_kind_is_stopped_with_a_report(outcome):
    zones, _, results = outcome
    assert len(CASES) == 20
    stopped = {name for name, r in results.items() if not r.success}
    assert stopped == set(CASES), set(CASES) - stopped
    for name, r in results.items():
        failures = [e for e in r.all_events if e.event_type_value == "STEP_FAILURE"]
        assert len(failures) == 1, name  # permanent: failed once, never retried
        assert not [e for e in r.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"], name
    reports = list(zones.quarantine.rglob("report.json"))
    assert len(reports) == len(CASES)


def _sinks(zones, instance_dir) -> list[str]:
    """Every file of the instance, reports, alerts and quarantine reports."""
    paths = []
    for root in (instance_dir, zones.reports, zones.data_dir / "alerts"):
        for dirpath, _, files in os.walk(root):
            paths += [os.path.join(dirpath, f) for f in files]
    paths += [str(p) for p in zones.quarantine.rglob("report.json")]
    return paths


def test_no_planted_identifier_in_any_sink(outcome):
    zones, instance_dir, _ = outcome
    sinks = _sinks(zones, instance_dir)
    assert any(p.endswith(".db") for p in sinks)  # run and event storage were scanned
    leaks = []
    for path in sinks:
        data = open(path, "rb").read()
        for field, value in PLANTED.items():
            forms = {value, value.replace(" ", "")}
            if any(f.encode() in data for f in forms):
                leaks.append(f"{field} in {path}")
    assert not leaks, leaks
