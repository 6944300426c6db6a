"""Audit records say who: the person (run tag or OS account) and the schedule or sensor."""

import getpass

from dagster_project.cohorts.publish import _who, approval
from dagster_project.cohorts.registry import load_projects
from dagster_project.lib.audit_who import who_from_tags


def test_a_ui_or_tagged_user_is_recorded_with_the_trigger():
    who = who_from_tags({"dagster/user": "jane.analyst@nhs.net", "dagster/sensor_name": "landing_sensor"})
    assert who["user"] == "jane.analyst@nhs.net" and who["user_source"] == "run tag"
    assert who["trigger"] == "sensor:landing_sensor" and who["os_user"] == getpass.getuser()


def test_without_a_tag_the_os_account_and_schedule_are_recorded(monkeypatch):
    monkeypatch.delenv("PHM_RUN_USER", raising=False)
    monkeypatch.delenv("PHM_RELEASE_USER", raising=False)
    who = who_from_tags({"dagster/schedule_name": "weekly_republish_cohorts"})
    assert who["user"] == getpass.getuser() != "unknown" and who["user_source"] == "os account"
    assert who["trigger"] == "schedule:weekly_republish_cohorts"
    assert _who("run-1")["user"] == getpass.getuser()


def test_the_user_source_names_the_variable_the_user_came_from(monkeypatch):
    monkeypatch.delenv("PHM_RUN_USER", raising=False)
    monkeypatch.setenv("PHM_RELEASE_USER", "sam.release")
    who = who_from_tags({})
    assert (who["user"], who["user_source"]) == ("sam.release", "PHM_RELEASE_USER")  # not "os account"
    monkeypatch.setenv("PHM_RUN_USER", "ria.run")
    assert (who_from_tags({})["user"], who_from_tags({})["user_source"]) == ("ria.run", "PHM_RUN_USER")
    assert who_from_tags({"phm/user": "tag.user"})["user_source"] == "run tag"


def test_reidentified_outputs_carry_an_approval_reference_and_purpose():
    project = next(iter(load_projects().values()))
    registered = approval(project, {})
    assert registered["approval_ref"] and registered["purpose"].startswith("direct care")
    tagged = approval(project, who_from_tags({"phm/approval_ref": "DSA-42", "phm/purpose": "direct care: flu"}))
    assert tagged == {"approval_ref": "DSA-42", "purpose": "direct care: flu"}
