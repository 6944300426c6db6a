"""Protect NoW publication end to end on a small synthetic ICS, through the Dagster assets.

Generate ~3,000 people, ingest, write the stand-in identity zone (tests/dbt/identity_standin.py),
build the warehouse (dbt: cohort models, their unit tests with hand-made people at every rule
edge, the opt-out invariants), then publish every project (identity/contact_details and one
run per cohorts/release partition) and check the governance promises against the truth.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import polars as pl
import pytest

from dagster_project.cohorts import publish
from dagster_project.cohorts.registry import load_projects
from dagster_project.lib.zones import Zones
from tests.dbt.identity_standin import ingest_everything, pseudo_id_expr, write_standin_identity

PERSONS = 3000
REFERENCE = dt.date(2026, 11, 1)
PROJECTS = list(load_projects())
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from dagster_project.cohorts.build import publish_all
    from dagster_project.synthetic import GeneratorConfig, generate
    from dagster_project.warehouse.build import materialise_warehouse

    data_dir = tmp_path_factory.mktemp("cohorts") / "data"
    generate(GeneratorConfig(persons=PERSONS, seed=5, out=data_dir, end_date=REFERENCE))
    zones = Zones.at(data_dir)
    ingest_everything(zones)
    write_standin_identity(zones)
    mp = pytest.MonkeyPatch()
    mp.setenv("PHM_DATA_DIR", str(data_dir))
    try:
        result = materialise_warehouse(zones)
        assert result.success, "dbt build failed"
        failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
        assert not failed, f"failing dbt tests: {failed}"
        assert publish_all(zones)
    finally:
        mp.undo()
    return zones


def cohort(zones: Zones, project: str) -> pl.DataFrame:
    return pl.read_parquet(zones.published / project / REFERENCE.isoformat() / "cohort.parquet")


def test_every_project_is_published_with_its_report(published: Zones):
    for project in PROJECTS:
        pointer = publish.latest(published, project)
        assert pointer and pointer["run_date"] == REFERENCE.isoformat(), project
        release = published.published / project / REFERENCE.isoformat()
        for name in ("cohort.parquet", "evidence.parquet", "summary.csv", "report.html", "release.json"):
            assert (release / name).exists(), (project, name)
        frame = cohort(published, project)
        assert frame.height > 10, project
        assert frame["pseudo_id"].is_unique().all()
        assert frame["reasons"].null_count() == 0 and frame["stratum"].null_count() == 0
        # one evidence row per rule met, for every person in the cohort
        evidence = pl.read_parquet(release / "evidence.parquet")
        assert set(evidence["pseudo_id"]) == set(frame["pseudo_id"])
        assert set(evidence.columns) >= {"pseudo_id", "project", "rule_id", "rule_description",
                                         "evidence_date", "evidence_value"}
        ranks = frame.group_by("practice_code").agg(pl.col("priority_rank").sort())
        for ranked in ranks["priority_rank"]:
            assert ranked.to_list() == list(range(1, len(ranked) + 1))
        html = (release / "report.html").read_text()
        assert "<svg" in html and "<script" not in html
        assert not (release / "release.json").read_text().count('"passed": false')


def test_every_rule_that_is_on_fires_in_the_test_ics(published: Zones):
    """The rule coverage of this run: every inclusion and exclusion rule that is on includes
    or excludes somebody in the test ICS (a rule that fires for nobody is broken, or the
    generator does not exercise it); no model writes a rule the registry does not know."""
    con = duckdb.connect(str(published.warehouse / "warehouse.duckdb"), read_only=True)
    try:
        coverage = con.sql("select * from marts.cohort_rule_coverage").pl()
    finally:
        con.close()
    assert coverage.filter(pl.col("status") == "unregistered").height == 0, coverage.filter(
        pl.col("status") == "unregistered")["rule_id"].to_list()
    silent = coverage.filter((pl.col("status") == "on") & (pl.col("people") == 0)
                             & pl.col("rule_kind").is_in(["inclusion", "exclusion"]))
    assert silent.height == 0, f"rules on but firing for nobody: {silent.select('project', 'rule_id').rows()}"
    assert set(coverage["project"]) == set(PROJECTS) | {"all_projects"}
    off = coverage.filter(pl.col("status") == "off")
    assert off.height > 0 and off["reason_off"].null_count() == 0 and (off["people"] == 0).all()


def test_every_release_lists_the_rules_that_are_off_and_an_assumed_campaign_warns(published: Zones):
    for project in PROJECTS:
        release = published.published / project / REFERENCE.isoformat()
        manifest = json.loads((release / "release.json").read_text())
        off = {r["rule_id"] for r in manifest["rules_off"]}
        assert "type1_dissent_withdrawn" in off, project  # shared by every cohort
        assert all(r["reason"] for r in manifest["rules_off"])
        counts = [r["people"] for r in manifest["rule_coverage"]]
        assert all(isinstance(c, str) and c.startswith("<") or c == 0 or c >= 8 for c in counts)
        html = (release / "report.html").read_text()
        assert "Rules switched off" in html and "type1_dissent_withdrawn" in html
    covid = json.loads((published.published / "covid_vaccination" / REFERENCE.isoformat()
                        / "release.json").read_text())
    assert covid["campaign"]["campaign_id"] == "autumn_2026" and covid["campaign"]["status"] == "assumed"
    assert any("assumed" in w for w in covid["warnings"])
    assert any(g["gate"] == "rules_warning" and g["detail"].startswith("WARNING") for g in covid["gates"])
    flu = json.loads((published.published / "flu_vaccination" / REFERENCE.isoformat() / "release.json").read_text())
    assert {"contraindicated", "no_consent"} <= {r["rule_id"] for r in flu["rules_off"]}


def test_cohorts_never_hold_opted_out_deceased_or_deregistered_people(published: Zones):
    opted = set(pl.read_parquet(published.identity / "opt_outs.parquet")["pseudo_id"])
    people = pl.read_parquet(published.truth / "people.parquet")
    people = people.with_columns(pseudo_id=pseudo_id_expr())
    dead = set(people.filter(pl.col("date_of_death") <= REFERENCE)["pseudo_id"])
    con = duckdb.connect(str(published.warehouse / "warehouse.duckdb"), read_only=True)
    try:
        registered = {p for (p,) in con.sql("select pseudo_id from marts.dim_person").fetchall()}
        type1 = {p for (p,) in con.sql("select pseudo_id from intermediate.int_observations_latest "
                                       "where type1_opt_out_date is not null").fetchall()}
    finally:
        con.close()
    assert opted and dead and type1
    for project in PROJECTS:
        ids = set(cohort(published, project)["pseudo_id"])
        assert not ids & opted, project
        assert not ids & type1, project
        assert not ids & dead, project
        assert ids <= registered, project


def test_pseudonymised_releases_hold_no_direct_identifiers(published: Zones):
    truth = pl.read_parquet(published.truth / "people.parquet")
    nhs = set(truth["nhs_number"].drop_nulls())
    names = set(truth["family_name"].drop_nulls()) | set(truth["given_name"].drop_nulls())
    for project in PROJECTS:
        release = published.published / project / REFERENCE.isoformat()
        frames = [pl.read_parquet(release / "cohort.parquet"), pl.read_parquet(release / "evidence.parquet"),
                  pl.read_csv(release / "summary.csv", infer_schema_length=0)]
        html = (release / "report.html").read_text()
        for frame in frames:
            assert publish.identifier_problems(frame, project) == []
            for column, dtype in frame.schema.items():
                if dtype == pl.String:
                    values = set(frame[column].drop_nulls())
                    assert not values & nhs, (project, column)
                    assert len(values & names) <= 3, (project, column)
        assert not any(n in html for n in list(nhs)[:2000]), project


def test_call_lists_only_for_approved_practices_and_one_for_one(published: Zones):
    from dagster_project.sources import raw_zone
    from dagster_project.sources.registry import load_registry

    practices = raw_zone.scan_published(published.raw, load_registry()["reference__practices"]).collect()
    approved = set(practices.filter(pl.col("direct_care_approved") == "Y")["practice_code"])
    assert approved and approved != set(practices["practice_code"])
    truth = pl.read_parquet(published.truth / "people.parquet")
    nhs_by_pseudo = dict(truth.with_columns(pseudo_id=pseudo_id_expr())
                         .select("pseudo_id", "nhs_number").iter_rows())
    matched = total = 0
    for project in PROJECTS:
        frame = cohort(published, project)
        folder = published.published / project / REFERENCE.isoformat() / "direct_care"
        listed = {p.stem for p in folder.glob("*.csv")}
        assert listed == approved & set(frame["practice_code"]), project
        for practice in listed:
            calls = pl.read_csv(folder / f"{practice}.csv", infer_schema_length=0)
            assert list(calls.columns[:5]) == ["priority", "nhs_number", "name", "phone", "reason"]
            rows = frame.filter(pl.col("practice_code") == practice).sort("priority_rank")
            assert calls["priority"].cast(pl.Int32).to_list() == rows["priority_rank"].to_list()
            assert calls["reason"].to_list() == rows["reasons"].to_list()
            for pseudo_id, number in zip(rows["pseudo_id"], calls["nhs_number"]):
                total += 1
                matched += nhs_by_pseudo.get(pseudo_id) == number
    # re-identified from the identity zone: the right person's NHS number (a few records carry
    # a wrong-but-valid number, as real GP records do)
    assert matched / total > 0.95, (matched, total)


def test_audit_log_records_every_release(published: Zones):
    log = publish.read_audit_log(published)
    for project in PROJECTS:
        entries = [e for e in log if e["project"] == project and e["status"] == "published"]
        what = {e["what"] for e in entries}
        assert what == {"pseudonymised_release", "direct_care_call_lists"}, project
        release = next(e for e in entries if e["what"] == "pseudonymised_release")
        assert release["rows"] == cohort(published, project).height
        assert release["run_id"] and release["when"] and release["practices"]
        calls = next(e for e in entries if e["what"] == "direct_care_call_lists")
        assert sum(calls["rows_by_practice"].values()) == calls["rows"]


def test_failed_gate_leaves_latest_where_it_was(published: Zones, monkeypatch):
    project = load_projects()["dpp"]
    monkeypatch.setenv("PHM_DATA_DIR", str(published.data_dir))
    before = (published.published / "dpp" / "latest.json").read_text()
    release_before = (published.published / "dpp" / REFERENCE.isoformat() / "release.json").read_text()

    def fail(gates):
        return [*gates, publish.GateResult("forced_for_test", False, "a test forces this gate to fail")]

    with pytest.raises(publish.ReleaseBlocked, match="forced_for_test"):
        publish.publish_project(published, project, run_id="test", gate_hook=fail, force=True)
    assert (published.published / "dpp" / "latest.json").read_text() == before
    assert (published.published / "dpp" / REFERENCE.isoformat() / "release.json").read_text() == release_before
    assert list((published.published / "dpp" / ".failed").iterdir())
    assert not list((published.published / "dpp").glob(".staging-*"))
    last = publish.read_audit_log(published)[-1]
    assert last["status"] == "blocked" and last["failed_gates"] == ["forced_for_test"]


def test_republishing_one_project_leaves_the_others_untouched(published: Zones):
    import dagster as dg

    from dagster_project.cohorts.assets import cohort_release
    from dagster_project.resources import PlatformResource

    others = {p: (published.published / p / "latest.json").read_text() for p in PROJECTS if p != "covid_vaccination"}
    cohort_before = cohort(published, "covid_vaccination")
    resources = {"platform": PlatformResource(data_dir=str(published.data_dir))}
    latest_before = (published.published / "covid_vaccination" / "latest.json").read_text()
    # nothing it reads changed: not republished, nothing materialised
    unchanged = dg.materialize([cohort_release], partition_key="covid_vaccination", resources=resources)
    assert unchanged.success and not unchanged.asset_materializations_for_node("cohorts__release")
    assert (published.published / "covid_vaccination" / "latest.json").read_text() == latest_before
    result = dg.materialize([cohort_release], partition_key="covid_vaccination", resources=resources,
                            run_config={"ops": {"cohorts__release": {"config": {"force": True}}}})
    assert result.success
    assert (published.published / "covid_vaccination" / "latest.json").read_text() != latest_before  # forced
    assert {p: (published.published / p / "latest.json").read_text() for p in others} == others
    # same reference date, same warehouse: the same cohort in the same order
    assert cohort(published, "covid_vaccination").equals(cohort_before)
    meta = result.asset_materializations_for_node("cohorts__release")[0].metadata
    assert str(meta["report"].value).endswith("report.html")


def test_outreach_outcomes_feed_uptake_and_data_quality_return(published: Zones, monkeypatch):
    """A month earlier: publish, simulate the outreach team's outcomes, land and ingest them,
    rebuild the warehouse as of the next month and read the uptake mart and the return."""
    from dagster_project.cohorts.build import publish_all
    from dagster_project.sources.ingest import ingest_partition
    from dagster_project.sources.registry import load_registry
    from dagster_project.synthetic.outreach import simulate_outreach
    from dagster_project.warehouse.build import materialise_warehouse

    monkeypatch.setenv("PHM_DATA_DIR", str(published.data_dir))
    past = "2026-10-01"
    assert materialise_warehouse(published, reference_date=past).success
    assert publish_all(published)
    assert (published.published / "flu_vaccination" / past / "cohort.parquet").exists()
    assert publish.latest(published, "flu_vaccination")["run_date"] == past
    landed = simulate_outreach(published, past, "2026-10-31", seed=1)
    assert ingest_partition(published, load_registry()["outreach__outcomes"], "2026-10-31").published
    assert materialise_warehouse(published).success
    outcomes = pl.read_csv(landed)
    con = duckdb.connect(str(published.warehouse / "warehouse.duckdb"), read_only=True)
    try:
        uptake = con.sql("select * from marts.mart_outreach_uptake").pl()
        returned = con.sql("select * from marts.mart_outreach_data_quality_return").pl()
    finally:
        con.close()
    assert uptake["contacted"].sum() == outcomes.select("project", "pseudo_id").unique().height
    assert set(uptake["project"]) == set(PROJECTS)
    assert uptake["later_vaccinated_screened_or_referred"].sum() > 0
    flu = uptake.filter(pl.col("project") == "flu_vaccination")
    assert flu["accepted"].sum() > 0 and flu["declined"].sum() > 0
    problems = outcomes.filter(pl.col("outcome").is_in(["wrong_number", "incorrect_details", "deceased", "moved_away"]))
    assert returned.height == problems.height and set(returned["practice_code"]) == set(problems["practice_code"])
    assert publish_all(published)  # back to the newest month, latest moves forward again
    assert publish.latest(published, "flu_vaccination")["run_date"] == REFERENCE.isoformat()
    runs = sorted(p.name for p in (published.published / "flu_vaccination").glob("????-??-??"))
    assert runs == [past, REFERENCE.isoformat()]
    assert json.loads((published.published / "flu_vaccination" / "latest.json").read_text())["rows"] > 0
    # the newest release reports uptake after contact among the people of the earlier one
    uptake = pl.read_csv(published.published / "flu_vaccination" / REFERENCE.isoformat() / "uptake.csv",
                         infer_schema_length=0)
    overall = {r["group"]: r for r in uptake.filter(pl.col("imd_quintile") == "all").iter_rows(named=True)}
    assert int(overall["contacted"]["people"]) == outcomes.filter(pl.col("project") == "flu_vaccination")["pseudo_id"].n_unique()
    assert int(overall["not yet contacted"]["people"]) > 0
    assert float(overall["contacted"]["ci_low"]) <= float(overall["contacted"]["rate"]) <= float(overall["contacted"]["ci_high"])
    html = (published.published / "flu_vaccination" / REFERENCE.isoformat() / "report.html").read_text()
    assert f"Uptake after contact (people of the release of {past})" in html


def test_release_gates_are_blocking_checks_of_the_partition(published: Zones, monkeypatch):
    """The UI's checks tab shows each gate's verdict for the project; a failed gate fails the
    step with that verdict (a blocking check), not a Python stack trace, and latest stays."""
    import dagster as dg

    from dagster_project.cohorts.assets import RELEASE, RELEASE_GATES, cohort_release
    from dagster_project.resources import PlatformResource

    resources = {"platform": PlatformResource(data_dir=str(published.data_dir))}
    ok = dg.materialize([cohort_release], partition_key="dpp", resources=resources)
    evaluations = {e.check_name: e for e in ok.get_asset_check_evaluations()}
    assert set(evaluations) == set(RELEASE_GATES) and all(e.passed for e in evaluations.values())
    assert {e.partition for e in evaluations.values()} == {"dpp"}

    before = (published.published / "dpp" / "latest.json").read_text()
    real = publish.run_gates

    def leaky(*args, **kwargs):
        return [publish.GateResult(g.gate, False, "3 summary row(s) show a count 1-7")
                if g.gate == "small_numbers_suppressed" else g for g in real(*args, **kwargs)]

    monkeypatch.setattr(publish, "run_gates", leaky)
    blocked = dg.materialize([cohort_release], partition_key="dpp", resources=resources, raise_on_error=False,
                             run_config={"ops": {"cohorts__release": {"config": {"force": True}}}})
    assert not blocked.success
    failed = [e for e in blocked.get_asset_check_evaluations() if not e.passed]
    assert [e.check_name for e in failed] == ["small_numbers_suppressed"]
    assert failed[0].asset_key == RELEASE and failed[0].partition == "dpp"
    assert "count 1-7" in failed[0].metadata["verdict"].value
    error = blocked.get_step_failure_events()[0].step_failure_data.error
    assert "blocking asset check failed" in error.message and "small_numbers_suppressed" in error.message
    assert "ReleaseBlocked" not in (error.cls_name or "")
    assert not blocked.asset_materializations_for_node("cohorts__release")
    assert (published.published / "dpp" / "latest.json").read_text() == before




def test_outreach_plan_one_conversation_channel_files_worklists_and_dq_returns(published: Zones, monkeypatch):
    """The outreach plan of the newest release date: one row per person, every reason, the
    three tool-shaped files and a DQ return per approved practice, worklists within capacity,
    audited; no NHS number the GP extract records for a deceased person on a call row."""
    from dagster_project.outreach import dq_returns
    from dagster_project.outreach import plan as P
    from dagster_project.outreach.release import capacity_of, publish_outreach

    monkeypatch.setenv("PHM_DATA_DIR", str(published.data_dir))
    out = publish_outreach(published, REFERENCE.isoformat(), run_id="test")
    assert all(g.passed for g in out.gates), out.gates
    plan = pl.read_parquet(out.path / "plan.parquet")
    releases = pl.concat([cohort(published, p).select("pseudo_id") for p in PROJECTS])
    assert plan.height == plan["pseudo_id"].n_unique() == releases["pseudo_id"].n_unique()
    assert plan.filter(pl.col("n_projects") > 1).height > 0
    assert set(plan["channel"].drop_nulls()) == {"phone", "sms", "letter"}
    # Accessible Information Standard needs recorded in the synthetic GP record are honoured
    assert plan["channel_reason"].str.contains("(AIS)", literal=True).any()
    capacity = capacity_of(published, P.load_config())
    per_day = plan.filter(pl.col("status") == P.SCHEDULED).group_by("worklist_date", "channel").len()
    for row in per_day.iter_rows(named=True):
        assert row["len"] <= capacity[row["channel"]]
    assert plan.filter(pl.col("status") == P.CARRIED).height > 0  # a small team: the rest carried over
    folder = out.path / "direct_care"
    assert out.practices and {p.name for p in folder.iterdir()} == set(out.practices)
    calls = pl.concat([pl.read_csv(folder / p / "calls.csv", infer_schema_length=0) for p in out.practices])
    sms = pl.concat([pl.read_csv(folder / p / "sms.csv", infer_schema_length=0) for p in out.practices])
    letters = pl.concat([pl.read_csv(folder / p / "letters.csv", infer_schema_length=0) for p in out.practices])
    assert calls.columns[:8] == ["worklist_date", "priority", "nhs_number", "name", "date_of_birth", "phone",
                                 "reasons", "interpreter"]
    assert sms.columns == ["send_date", "mobile", "first_name", "template_id"]
    assert letters.columns == ["send_date", "name", "address_line", "postcode", "reasons", "format", "language"]
    # main spoken languages other than English recorded in the synthetic GP record reach the plan
    assert plan["language"].drop_nulls().len() > 0 and "English" not in set(plan["language"].drop_nulls())
    assert sms["mobile"].str.replace_all(" ", "").str.starts_with("07").all()
    assert letters["address_line"].null_count() == 0 and letters["postcode"].null_count() == 0
    scheduled_here = plan.filter((pl.col("status") == P.SCHEDULED) & pl.col("practice_code").is_in(out.practices))
    assert calls.height + sms.height + letters.height == scheduled_here.height
    # the wrong-but-valid NHS numbers: returned to the practice, never on a call row
    returned = pl.concat([pl.read_csv(folder / p / "dq_return.csv", infer_schema_length=0) for p in out.practices])
    dead = returned.filter(pl.col("kind") == dq_returns.DECEASED_NUMBER)["nhs_number"].to_list()
    assert not set(dead) & set(calls["nhs_number"].drop_nulls().to_list())
    assert set(returned["kind"]) >= {dq_returns.DUPLICATE, dq_returns.MOVED}
    log = [e for e in publish.read_audit_log(published) if e.get("project") == "outreach" and e["run_id"] == "test"]
    assert {e["what"] for e in log} >= {"outreach_plan", "direct_care_calls", "direct_care_letters",
                                        "direct_care_dq_return"}


def test_only_projects_whose_inputs_changed_are_republished(published: Zones, monkeypatch):
    """Same warehouse, same identity, same code: a release is not published again ("unchanged
    since release ..."), its files and latest.json untouched; a project whose warehouse rows
    changed (one evidence row gone), or whose registry entry changed, is republished."""
    import dataclasses

    from dagster_project.cohorts.build import publish_all

    monkeypatch.setenv("PHM_DATA_DIR", str(published.data_dir))
    # the refresh path twice (contact details rebuilt from the same extracts, then every
    # project): the second publishes nothing
    assert publish_all(published) and publish_all(published)
    assert {e["status"] for e in publish.read_audit_log(published)[-len(PROJECTS):]} == {"unchanged"}
    projects = load_projects()
    changed, kept = projects["flu_vaccination"], projects["dpp"]
    for project in (changed, kept):  # a baseline made by this code on this warehouse
        assert not publish.publish_project(published, project, run_id="baseline", force=True).unchanged_since

    def state(pid: str) -> tuple[str, str]:
        run_date = publish.latest(published, pid)["run_date"]
        return ((published.published / pid / "latest.json").read_text(),
                (published.published / pid / run_date / "release.json").read_text())

    before = {p.id: state(p.id) for p in (changed, kept)}
    again = publish.publish_project(published, kept, run_id="again")
    assert again.unchanged_since and again.unchanged_since.startswith(f"dpp/{again.run_date}")
    assert again.cohort_rows == json.loads(before["dpp"][1])["cohort_rows"]
    assert state("dpp") == before["dpp"]  # no new release
    entry = publish.read_audit_log(published)[-1]
    assert entry["status"] == "unchanged" and entry["project"] == "dpp" and entry["run_id"] == "again"

    # the warehouse rows one project reads change: that project alone is republished
    con = duckdb.connect(str(published.warehouse_db))
    try:
        con.execute(f"delete from marts.{changed.evidence_model} where rowid = (select min(rowid) "
                    f"from marts.{changed.evidence_model})")
    finally:
        con.close()
    assert not publish.publish_project(published, changed, run_id="evidence-changed").unchanged_since
    assert state("flu_vaccination") != before["flu_vaccination"]
    used = json.loads((published.published / "flu_vaccination" / publish.latest(published, "flu_vaccination")
                       ["run_date"] / "inputs.json").read_text())
    assert used["fingerprint"]["digest"]
    assert publish.publish_project(published, kept, run_id="other").unchanged_since  # dpp reads none of it
    assert state("dpp") == before["dpp"]

    # its registry entry changes (a rule parameter of the release): republished
    stricter = dataclasses.replace(kept, suppress_below=kept.suppress_below + 1)
    assert not publish.publish_project(published, stricter, run_id="registry-changed").unchanged_since
    assert state("dpp") != before["dpp"]
