"""`make run`'s job end to end on a small synthetic ICS: generate, ingest through Dagster, summarise."""

from __future__ import annotations

import polars as pl
import pytest

from dagster_project.lib.zones import Zones
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry


@pytest.mark.slow
def test_run_generates_and_materialises_every_source(tmp_path, monkeypatch, capsys):
    from dagster_project import run

    data_dir = tmp_path / "data"
    monkeypatch.setenv("PHM_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PHM_LANDING_DIR", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(data_dir / "dagster_home"))

    assert run.main(["--persons", "1500", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    print(f"make run console lines: {len(out.splitlines())}")  # shown with pytest -rP
    zones = Zones.at(data_dir)
    assert "People linked" in out and "Bridges to Health segments" in out
    assert (data_dir / "warehouse" / "warehouse.duckdb").exists()
    assert (zones.identity / "pseudo_keys.parquet").exists() and (zones.identity / "opt_outs.parquet").exists()
    for spec in load_registry().values():
        dates = raw_zone.published_dates(zones.raw, spec)
        # three monthly extracts, each gated and published; outreach outcomes also the outcomes
        # loop's delivery (the day before the newest extract)
        assert len(dates) == (4 if spec.name == "outreach__outcomes" else 3), spec.name
        assert f"{spec.source}.{spec.table}" in out
    patients = raw_zone.scan_published(zones.raw, load_registry()["gp__patients"]).collect()
    assert patients.height > 1500  # the newest snapshot: living, dead and duplicate records
    apc = raw_zone.scan_published(zones.raw, load_registry()["acute__apc"]).collect()
    assert apc["spell_id"].is_unique().all()  # increments: one latest version per record
    # the Dagster instance recorded the runs, so the UI shows them
    import dagster as dg

    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        runs = instance.get_runs()
        sources = len({s.source for s in load_registry().values()})
        # the named jobs of the Definitions (as the UI and the automation sensor run them):
        # one ingest run per source and extract, one refresh_warehouse (link + dbt build),
        # one publish_cohorts run per Protect NoW project and one publish_projection; never an
        # ad hoc asset job
        from dagster_project.cohorts.registry import load_projects

        projects = list(load_projects())
        jobs = sorted(r.job_name for r in runs)
        # the outcomes loop (dagster_project/outreach/loop.py): this month's extracts wait while
        # the platform runs as a month ago (a refresh as of last month, its contact details,
        # its releases and outreach plan), then this month's extracts and the outcomes' ingest
        # run and the refresh as of this month
        assert jobs.count("refresh_warehouse") == 3 and jobs.count("publish_cohorts") == 2 * len(projects)
        assert jobs.count("publish_outreach_plan") == 2 and jobs.count("ingest_outreach") == 3 + 1
        projection = jobs.count("publish_projection")  # the projection report, when that group exists
        assert len(runs) == 3 * sources + 1 + 3 + 2 * len(projects) + 2 + projection
        assert not any(j.startswith("__") for j in jobs)
        assert all(r.is_success for r in runs)
        # every asset make run touches shows as materialised, the model in use included
        assert instance.get_latest_materialization_event(dg.AssetKey(["identity", "linkage_model"]))
    # a quiet console: one line per stage, a summary in data-flow order
    assert len(out.splitlines()) < 300, len(out.splitlines())
    assert "ingest gp 20" in out and "Stages (data-flow order)" in out
    # every Protect NoW project published, gated, with its report; latest moved; audited
    from dagster_project.cohorts import publish

    assert "Protect NoW releases" in out
    log = publish.read_audit_log(zones)
    for project in projects:
        pointer = publish.latest(zones, project)
        assert pointer is not None, project
        release = zones.published / project / pointer["run_date"]
        assert (release / "cohort.parquet").exists() and (release / "report.html").exists()
        assert pl.read_parquet(release / "cohort.parquet").height == pointer["rows"]
        assert any(e["project"] == project and e["what"] == "pseudonymised_release" for e in log)
    # a second run is idempotent: nothing new to generate, the same partitions re-gated
    assert run.main([]) == 0
    assert pl.read_parquet(raw_zone.partition_file(zones.raw, load_registry()["gp__patients"],
                                                   raw_zone.published_dates(zones.raw, load_registry()["gp__patients"])[-1])).height == patients.height
