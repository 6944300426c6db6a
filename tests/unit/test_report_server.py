"""The report server (`make ui`): pseudonymised reports and the dbt docs, nothing else."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import pytest

from dagster_project.lib import report_urls
from dagster_project.lib.zones import Zones
from dagster_project.ops import report_server

SERVED = [
    "reports/validation/gp/patients/2026-11-01/20261101T060000Z.html",
    "reports/linkage/match_weights.html",
    "published/dpp/2026-11-01/report.html",
    "published/dpp/2026-11-01/release.json",
    "warehouse/docs/index.html",
    "warehouse/docs/manifest.json",
    "warehouse/docs/catalog.json",
]
NEVER = [
    "landing/gp/2026-11-01/patients.csv",
    "raw/gp/patients/extract_date=2026-11-01/data.parquet",
    "raw/gp/patients/extract_date=2026-11-01/audit.json",
    "quarantine/gp/patients/2026-11-01/x/report.json",
    "identity/person_index.parquet",
    "identity/contact_details.parquet",
    "published/dpp/2026-11-01/direct_care/A81001.csv",
    "published/dpp/2026-11-01/cohort.parquet",
    "published/dpp/.failed/2026-11-01-x/report.html",
    "published/audit_log.jsonl",
    "reports/linkage/waterfall_sample.html",  # Splink shows the compared records' fields
    "warehouse/warehouse.duckdb",
    "dagster_home/dagster.yaml",
    "alerts/alerts.jsonl",
]


@pytest.fixture
def served(tmp_path):
    zones = Zones.at(tmp_path / "data")
    for relative in SERVED + NEVER:
        path = zones.data_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {relative}")
    # a symlink inside an allowed folder that points into the identity zone
    (zones.data_dir / "published/dpp/2026-11-01/evil").mkdir()
    (zones.data_dir / "reports/linkage/index.html").symlink_to(zones.data_dir / "identity/person_index.parquet")
    server = report_server.make_server(zones, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield zones, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_serves_the_reports_and_the_dbt_docs(served):
    zones, base = served
    for relative in SERVED:
        assert fetch(f"{base}/{relative}") == (200, f"content of {relative}"), relative


def test_never_serves_landing_raw_identity_or_direct_care_files(served):
    zones, base = served
    for relative in NEVER:
        assert fetch(f"{base}/{relative}")[0] == 404, relative
    for sneaky in ["reports/linkage/index.html",  # symlink into identity/
                   "reports/validation/../../identity/person_index.parquet",
                   "reports/validation/%2e%2e/%2e%2e/identity/person_index.parquet",
                   "published/dpp/2026-11-01/../../../identity/contact_details.parquet",
                   "", "reports/", "published/dpp/"]:
        assert fetch(f"{base}/{sneaky}")[0] == 404, sneaky


def test_metadata_links_only_what_is_served(served, monkeypatch):
    zones, base = served
    monkeypatch.setenv(report_urls.URL_ENV, base)
    report = zones.data_dir / "published/dpp/2026-11-01/report.html"
    assert report_urls.url_for(zones, report) == f"{base}/published/dpp/2026-11-01/report.html"
    assert report_urls.link(zones, report).value.startswith("http://127.0.0.1")
    contact = zones.data_dir / "identity/contact_details.parquet"
    assert report_urls.url_for(zones, contact) is None
    assert report_urls.link(zones, contact).value == str(contact)  # a path, never a URL
