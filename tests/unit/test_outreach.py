"""Outreach: uptake after contact against people not yet contacted (hand-made people)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from dagster_project.cohorts import uptake


def test_wilson_interval_matches_the_published_worked_values():
    # 8 of 10: centre (0.8 + z²/20) / (1 + z²/10) = 0.7167, half-width 0.2266, worked by hand
    lo, hi = uptake.wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert uptake.wilson(0, 20)[0] == 0.0 and uptake.wilson(20, 20)[1] == 1.0
    with pytest.raises(ValueError):
        uptake.wilson(0, 0)


def _day(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def test_uptake_after_contact_counts_events_after_first_contact_and_compares_with_not_contacted():
    released = "2026-10-01"
    cohort = pl.DataFrame({"pseudo_id": ["a", "b", "c", "d", "e"], "imd_quintile": [1, 1, 1, 5, 5]})
    contacts = pl.DataFrame({
        "pseudo_id": ["a", "a", "b", "d"],
        "contact_date": [_day("2026-10-05"), _day("2026-10-09"), _day("2026-10-20"), _day("2026-10-02")],
        "outcome": ["not_reached", "booked", "declined", "booked"]})
    events = pl.DataFrame({
        "pseudo_id": ["a", "b", "c", "d", "e"],
        # a: vaccinated after first contact; b: before contact (not uptake after contact);
        # c: never contacted, vaccinated after the contacted group's median first contact
        # (10-05); d: before the release only; e: never contacted, vaccinated after the release
        # but before that median (outside the window the contacted were followed over)
        "event_date": [_day("2026-10-12"), _day("2026-10-10"), _day("2026-10-15"), _day("2026-09-01"),
                       _day("2026-10-03")]})
    table = uptake.compare(cohort, contacts, events, released)
    row = lambda q, g: table.filter((pl.col("imd_quintile") == q) & (pl.col("group") == g)).row(0, named=True)  # noqa: E731
    assert row("1", "contacted")["people"] == 2 and row("1", "contacted")["took_up"] == 1
    assert row("1", "contacted")["accepted_offer"] == 1
    assert row("1", "not yet contacted")["people"] == 1 and row("1", "not yet contacted")["took_up"] == 1
    assert row("5", "contacted")["took_up"] == 0 and row("5", "not yet contacted")["people"] == 1
    assert row("5", "not yet contacted")["took_up"] == 0  # e: before the comparable window
    assert row("all", "contacted")["people"] == 3 and row("all", "not yet contacted")["people"] == 2
    assert row("all", "not yet contacted")["accepted_offer"] is None
    for r in table.iter_rows(named=True):
        assert 0 <= r["ci_low"] <= r["rate"] <= r["ci_high"] <= 1


def test_uptake_table_is_suppressed_for_sharing():
    table = pl.DataFrame({"imd_quintile": ["1", "2"], "group": ["contacted"] * 2, "people": [100, 5],
                          "took_up": [40, 2], "rate": [0.4, 0.4], "ci_low": [0.31, 0.1], "ci_high": [0.5, 0.8],
                          "accepted_offer": [30, 1]})
    shared = uptake.suppress(table, 8)
    assert shared.row(0, named=True)["people"] == "100" and shared.row(0, named=True)["rate"] == "0.4"
    second = shared.row(1, named=True)
    assert second["people"] == "suppressed" and second["rate"] == "suppressed" and second["took_up"] == "suppressed"


# ----------------------------------------------------------------------------- the plan
from dagster_project.outreach import plan as P  # noqa: E402


def _releases() -> pl.DataFrame:
    # practice A: flu (3 people), covid (2); "x" is in both; practice B: flu (1)
    return pl.DataFrame({
        "project": ["flu_vaccination"] * 3 + ["covid_vaccination"] * 2 + ["flu_vaccination"],
        "title": ["Flu"] * 3 + ["COVID"] * 2 + ["Flu"],
        "pseudo_id": ["x", "y", "z", "x", "w", "v"],
        "practice_code": ["A00001"] * 5 + ["B00001"],
        "priority_rank": [2, 1, 3, 1, 2, 1],
        "reasons": ["aged 65 or over", "diabetes", "asthma", "aged 75 or over", "immunosuppressed", "carer"],
    })


def test_one_conversation_per_person_with_every_reason_and_multi_project_people_first():
    conv = P.conversations(_releases())
    assert conv.height == 5 and conv["pseudo_id"].n_unique() == 5
    x = conv.filter(pl.col("pseudo_id") == "x").row(0, named=True)
    assert x["n_projects"] == 2 and x["need_rank"] == 1
    assert "Flu: aged 65 or over" in x["reasons"] and "COVID: aged 75 or over" in x["reasons"]
    assert x["top_project"] == "covid_vaccination"  # its best relative rank (1 of 2)
    # a practice's top person of a one-person list ranks with other practices' top people
    assert conv.filter(pl.col("pseudo_id") == "v")["need_rank"][0] < conv.filter(pl.col("pseudo_id") == "z")["need_rank"][0]
    carried = P.conversations(_releases(), carried=pl.DataFrame({"pseudo_id": ["w"]}))
    # w (COVID rank 2 of 2) and z (flu rank 3 of 3) tie on relative rank 1.0: the carried one first
    order = carried["pseudo_id"].to_list()
    assert order.index("w") < order.index("z")


def _people(**columns) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"pseudo_id": [f"p{i}" for i in range(n)], "phone": [None] * n, "address_line": [None] * n,
            "postcode": [None] * n, "interpreter_needed": [False] * n, "phone_failed": [False] * n}
    base.update(columns)
    return pl.DataFrame(base, schema_overrides={"phone": pl.String, "address_line": pl.String, "postcode": pl.String})


def test_channel_by_rule_honours_interpreter_need_and_failed_numbers():
    people = _people(
        phone=["01632 960001", "07700 900002", "07700 900003", None, None, "12345", "07700 900007", None],
        address_line=["1 Mill Road", None, "3 Mill Road", "4 Mill Road", None, "6 Mill Road", None, "8 Mill Road"],
        postcode=["NR1 1AA", None, "NR1 1AA", "NR1 1AA", None, "NR1 1AA", None, "NR1 1AA"],
        interpreter_needed=[False, False, True, False, False, False, False, True],
        phone_failed=[False, True, False, False, False, False, False, False])
    got = P.choose_channel(people)
    assert got["channel"].to_list() == ["phone", None, "phone", "letter", None, "letter", "phone", "letter"]
    assert got["channel_reason"][2] == "interpreter needed: call with an interpreter"
    assert got["channel_reason"][7] == "interpreter needed, no usable number: letter"


def test_main_spoken_language_other_than_english_means_an_interpreter_of_that_language():
    """Hand-made people with a recorded main spoken language: Polish without an interpreter
    record -> a call with a Polish interpreter, never an English text; Romanian with no
    usable number -> a letter noting Romanian; English -> the project's choice (a text);
    an interpreter record without a language -> a call, language unknown."""
    mobile = "07700 900001"
    people = _people(phone=[mobile, None, mobile, mobile], address_line=["1 Mill Road"] * 4,
                     postcode=["NR1 1AA"] * 4, interpreter_needed=[False, False, False, True],
                     main_language=["Polish", "Romanian", "English", None],
                     preferred=[["sms", "phone", "letter"]] * 4)
    got = P.choose_channel(people)
    assert got["channel"].to_list() == ["phone", "letter", "sms", "phone"]
    assert got["channel_reason"][0] == "main spoken language not English: call with an interpreter"
    assert got["language"].to_list() == ["Polish", "Romanian", None, None]
    assert got["interpreter_needed"].to_list() == [True, True, False, True]
    from dagster_project.outreach.release import channel_files

    planned = got.with_columns(status=pl.lit(P.SCHEDULED), worklist_date=pl.lit(dt.date(2026, 11, 2)),
                               need_rank=pl.int_range(pl.len()) + 1, practice_code=pl.lit("A1"),
                               top_project=pl.lit("flu_vaccination"), nhs_number=pl.lit(None, pl.String),
                               name=pl.lit("X"), given_name=pl.lit("x"), date_of_birth=pl.lit("1950-01-01"),
                               reasons=pl.lit("Flu"), verify_identity=pl.lit(False))
    files = channel_files(planned, P.load_config())
    assert files["calls"]["interpreter"].to_list() == ["Polish interpreter", "interpreter needed (language not recorded)"]
    assert files["letters"]["language"].to_list() == ["Romanian"]


def test_channel_honours_accessible_information_standard_needs():
    """Hand-made people, one per AIS need (concept ids from the seed, not invented)."""
    codes = pl.read_csv(Path(__file__).parents[2] / "dbt/seeds/outreach/outreach_contact_codes.csv",
                        schema_overrides={"code": pl.String})
    effect = dict(zip(codes["code"], zip(codes["need"], codes["effect"])))
    assert effect["936721000000107"] == ("contact_method", "letter")
    assert effect["204331000000107"] == ("bsl_interpreter", "needed")
    assert effect["957351000000102"] == ("information_format", "large_print")
    mobile, landline = "07700 900001", "01632 960002"
    people = _people(
        # 0 requires letter (has a mobile, project prefers sms)  1 requires telephone (prefers sms)
        # 2 requires sms (several reasons would mean a call)     3 requires letter, no address -> falls back
        # 4 BSL with mobile -> sms, never a call                 5 BSL, landline only -> letter
        # 6 BSL, landline, no address -> no route (never phoned) 7 large print, letter by preference
        # 8 Easyread, no mobile -> letter in Easyread
        phone=[mobile, mobile, mobile, landline, mobile, landline, landline, landline, None],
        address_line=["1 Mill Road", "2 Mill Road", "3 Mill Road", None, "5 Mill Road", "6 Mill Road", None,
                      "8 Mill Road", "9 Mill Road"],
        postcode=["NR1 1AA"] * 3 + [None] + ["NR1 1AA"] * 2 + [None] + ["NR1 1AA"] * 2,
        required_contact_method=["letter", "telephone", "sms", "letter", None, None, None, None, None],
        bsl_interpreter_needed=[False, False, False, False, True, True, True, False, False],
        information_format=[None] * 7 + ["large_print", "easy_read"],
        preferred=[["sms", "phone", "letter"]] * 7 + [["letter", "phone", "sms"]] * 2,
        n_projects=[1, 1, 2, 1, 2, 1, 1, 1, 1])
    got = P.choose_channel(people)
    assert got["channel"].to_list() == ["letter", "phone", "sms", "phone", "sms", "letter", None, "letter", "letter"]
    assert got["channel_reason"][0] == "requires contact by letter (AIS)"
    assert got["channel_reason"][1] == "requires contact by telephone (AIS)"
    assert got["channel_reason"][2] == "requires contact by text message (AIS)"
    assert got["channel_reason"][4] == "BSL interpreter needed: text message, not a voice call"
    assert got["letter_format"].to_list()[7:] == [P.LETTER_FORMATS["large_print"], "Easyread"]
    assert got["letter_format"][0] is None


def test_project_channel_preferences_sms_to_mobiles_and_unanswered_calls_become_texts():
    people = _people(phone=["07700 900001", "01632 960002", "07700 900003", "07700 900004"],
                     address_line=["1 Mill Road"] * 4, postcode=["NR1 1AA"] * 4,
                     preferred=[["sms", "phone", "letter"]] * 2 + [["phone", "sms", "letter"]] * 2,
                     n_projects=[1, 1, 1, 2], phone_unanswered=[False, False, True, False])
    got = P.choose_channel(people)
    # mobile + project prefers text -> sms; landline cannot take a text -> phone;
    # last call unanswered -> a text to the mobile; two reasons -> one call
    assert got["channel"].to_list() == ["sms", "phone", "sms", "phone"]
    assert got["channel_reason"][3] == "several reasons: one call settles them"


def test_contact_fatigue_holds_back_people_contacted_recently():
    conv = P.conversations(_releases())
    last = pl.DataFrame({"pseudo_id": ["x", "y"], "last_contact_date": [dt.date(2026, 10, 20), dt.date(2026, 9, 1)]})
    held = P.hold_back(conv, last, "2026-11-01", 28)
    flags = dict(zip(held["pseudo_id"], held["recently_contacted"]))
    assert flags["x"] is True and flags["y"] is False and flags["z"] is False
    planned = P.schedule(P.choose_channel(held.with_columns(
        phone=pl.lit("01632 960001"), address_line=pl.lit(None, pl.String), postcode=pl.lit(None, pl.String),
        interpreter_needed=pl.lit(False), phone_failed=pl.lit(False))), {"phone": 10, "sms": 10, "letter": 10},
        [dt.date(2026, 11, 2)])
    x = planned.filter(pl.col("pseudo_id") == "x").row(0, named=True)
    assert x["status"] == P.FATIGUE and x["worklist_date"] is None


def test_capacity_fills_days_in_need_order_and_carries_the_rest_over():
    n = 7
    plan = pl.DataFrame({"pseudo_id": [f"p{i}" for i in range(n)], "need_rank": list(range(1, n + 1)),
                         "channel": ["phone"] * 5 + ["letter", None], "recently_contacted": [False] * n})
    days = P.working_days(dt.date(2026, 11, 6), 4, (0, 1, 2, 3, 4))  # Fri, (Sat, Sun), Mon
    assert days == [dt.date(2026, 11, 6), dt.date(2026, 11, 9)]
    out = P.schedule(plan, {"phone": 2, "sms": 0, "letter": 1}, days).sort("need_rank")
    assert out["worklist_date"].to_list()[:5] == [dt.date(2026, 11, 6)] * 2 + [dt.date(2026, 11, 9)] * 2 + [None]
    assert out["status"].to_list() == [P.SCHEDULED] * 4 + [P.CARRIED, P.SCHEDULED, P.NO_ROUTE]
    per_day = out.filter(pl.col("channel") == "phone").group_by("worklist_date").len().drop_nulls()
    assert per_day["len"].max() <= 2


# ----------------------------------------------------------------------------- DQ returns
from dagster_project.cohorts import contacts  # noqa: E402
from dagster_project.lib.nhs_number import generate_999  # noqa: E402
from dagster_project.linkage.pipeline import PSEUDO_KEYS  # noqa: E402
from dagster_project.outreach import dq_returns as DQ  # noqa: E402


def _gp_identity(zones, rows: list[dict]) -> None:
    """identity/pseudo_keys + identity/contact_details for hand-made GP records."""
    zones.identity.mkdir(parents=True, exist_ok=True)
    frame = pl.DataFrame(rows, schema={
        "pseudo_id": pl.String, "practice_code": pl.String, "record_id": pl.String, "nhs_number": pl.String,
        "given_name": pl.String, "family_name": pl.String, "phone": pl.String, "date_of_death": pl.Date,
        "date_of_birth": pl.Date, "postcode": pl.String, "address_line": pl.String, "registered_from": pl.Date})
    frame.select(pl.lit("gp").alias("source"), pl.lit("patients").alias("table"), "practice_code", "record_id",
                 "pseudo_id").write_parquet(zones.identity / PSEUDO_KEYS)
    frame.drop("pseudo_id").with_columns(pl.lit(True).alias("nhs_number_valid")).write_parquet(
        zones.identity / contacts.CONTACT_DETAILS)


def test_wrong_but_valid_nhs_number_is_flagged_returned_and_never_on_the_call_list(tmp_path):
    import numpy as np

    from dagster_project.lib.zones import Zones

    zones = Zones.at(tmp_path / "data")
    own, dead_persons, other = generate_999(np.random.default_rng(3), 3)
    d = dt.date
    _gp_identity(zones, [
        # the deceased person's record at practice B
        {"pseudo_id": "dead", "practice_code": "B00001", "record_id": "9", "nhs_number": dead_persons,
         "given_name": "EDITH", "family_name": "CROME", "date_of_death": d(2025, 3, 1), "date_of_birth": d(1931, 2, 2),
         "registered_from": None},
        # a living woman whose record carries the dead person's (valid) number
        {"pseudo_id": "living", "practice_code": "A00001", "record_id": "1", "nhs_number": dead_persons,
         "given_name": "JOAN", "family_name": "PAGE", "phone": "01632 960001", "date_of_birth": d(1950, 5, 6),
         "registered_from": d(2001, 1, 1)},
        # a man with two open registrations
        {"pseudo_id": "twice", "practice_code": "A00001", "record_id": "2", "nhs_number": other,
         "given_name": "AL", "family_name": "FROST", "date_of_birth": d(1960, 1, 1), "registered_from": d(2010, 1, 1)},
        {"pseudo_id": "twice", "practice_code": "B00001", "record_id": "3", "nhs_number": other,
         "given_name": "AL", "family_name": "FROST", "date_of_birth": d(1960, 1, 1), "registered_from": d(2020, 1, 1)},
        {"pseudo_id": "fine", "practice_code": "A00001", "record_id": "4", "nhs_number": own,
         "given_name": "ANN", "family_name": "LEE", "date_of_birth": d(1970, 1, 1), "registered_from": d(2000, 1, 1)},
    ])
    records = contacts.gp_records(zones)
    dq = DQ.from_records(records)
    kinds = {(r["pseudo_id"], r["kind"]) for r in dq.iter_rows(named=True)}
    assert ("living", DQ.DECEASED_NUMBER) in kinds
    assert ("twice", DQ.DUPLICATE) in kinds and len([k for k in kinds if k[0] == "twice"]) == 1
    assert not any(p in ("dead", "fine") for p, _ in kinds)
    rows = dq.filter(pl.col("kind") == DQ.DUPLICATE)
    assert sorted(rows["practice_code"]) == ["A00001", "B00001"]  # returned to both practices
    # the living woman's call-list row: no NHS number (it is the dead person's), verify identity
    cohort = pl.DataFrame({"pseudo_id": ["living", "fine"], "practice_code": ["A00001"] * 2, "priority_rank": [1, 2],
                           "reasons": ["r", "r"], "stratum": ["s", "s"], "eligibility_group": ["g", "g"]})
    calls = contacts.reidentify(zones, cohort)
    living = calls.filter(pl.col("priority") == 1).row(0, named=True)
    assert living["nhs_number"] is None and living["verify_identity"].startswith("VERIFY IDENTITY")
    assert living["contact_found"] is True and living["name"] == "JOAN PAGE"
    assert calls.filter(pl.col("priority") == 2)["nhs_number"][0] == own
    assert dead_persons not in calls["nhs_number"].drop_nulls().to_list()
    # the practice's return file names its own record and what to correct
    returned = DQ.for_practice(dq.with_columns(
        pl.col("kind").is_in(list(DQ.IDENTITY_IN_DOUBT)).alias("verify_identity"),
        pl.lit("JOAN PAGE").alias("name"), pl.lit(None, pl.Date).alias("date_of_birth")), "A00001")
    row = returned.filter(pl.col("kind") == DQ.DECEASED_NUMBER).row(0, named=True)
    assert row["patient_id"] == "1" and row["nhs_number"] == dead_persons and row["verify_identity"] == "yes"


def test_failed_phone_and_moved_address_are_returned_to_the_practice():
    d = dt.date
    records = pl.DataFrame({"pseudo_id": ["p", "q"], "practice_code": ["A00001"] * 2, "record_id": ["1", "2"],
                            "nhs_number": ["x", "y"], "registered_from": [d(2001, 1, 1)] * 2,
                            "postcode": ["NR1 1AA", "NR2 2BB"], "date_of_death": [None, None]},
                           schema_overrides={"date_of_death": pl.Date})
    outcomes = pl.DataFrame({"pseudo_id": ["p", "p", "q"], "practice_code": ["A00001"] * 3,
                             "contact_date": [d(2026, 10, 2), d(2026, 10, 9), d(2026, 10, 9)],
                             "channel": ["phone", "phone", "phone"], "outcome": ["not_reached", "wrong_number", "booked"]})
    failed = DQ.failed_phones(outcomes, records)
    assert failed["pseudo_id"].to_list() == ["p"] and failed["kind"][0] == DQ.FAILED_PHONE
    other = pl.DataFrame({"pseudo_id": ["p", "q", "q"], "source": ["acute", "community", "acute"],
                          "postcode": ["nr11aa", "NR9 9ZZ", "NR2 2BB"],
                          "seen_on": [d(2026, 9, 1), d(2026, 9, 1), d(2024, 1, 1)]})
    moved = DQ.moved(other, records, "2026-11-01")
    assert moved["pseudo_id"].to_list() == ["q"] and "community record of 2026-09-01" in moved["detail"][0]


def test_release_summary_divides_by_the_eligible_population_with_confidence_intervals():
    from dagster_project.cohorts.publish import summarise

    ranked = pl.DataFrame({"pseudo_id": [f"c{i}" for i in range(30)], "practice_code": ["A"] * 30,
                           "pcn_code": ["N"] * 30, "stratum": ["s"] * 30, "imd_quintile": [1] * 20 + [5] * 10,
                           "is_core20": [True] * 20 + [False] * 10, "ethnicity_group": ["White"] * 30,
                           "age_band": ["65-74"] * 30})
    eligible = pl.concat([ranked.drop("stratum"), pl.DataFrame({
        "pseudo_id": [f"e{i}" for i in range(70)], "practice_code": ["A"] * 70, "pcn_code": ["N"] * 70,
        "imd_quintile": [1] * 30 + [5] * 40, "is_core20": [True] * 30 + [False] * 40,
        "ethnicity_group": ["White"] * 70, "age_band": ["65-74"] * 70})])
    summary = summarise(ranked, eligible, 8)
    overall = summary.filter(pl.col("dimension") == "overall").row(0, named=True)
    assert overall["population"] == "100" and overall["cohort_per_1000"] == "300.0"
    lo, hi = uptake.wilson(30, 100)
    assert overall["ci95_per_1000"] == f"{1000 * lo:.1f}-{1000 * hi:.1f}"
    imd1 = summary.filter((pl.col("dimension") == "imd_quintile") & (pl.col("group") == "IMD 1")).row(0, named=True)
    assert imd1["cohort_per_1000"] == "400.0"  # 20 of the 50 eligible in quintile 1


def test_team_capacity_is_per_head_of_the_reference_population():
    config = P.load_config()
    assert config.capacity["phone"] == 150 and config.reference_population == 1_100_000
    assert config.capacity_for(1_100_000)["phone"] == 150
    small = config.capacity_for(20_000)
    assert small["phone"] == 3 and small["sms"] == 19 and small["letter"] == 6
    assert config.capacity_for(100)["phone"] == 1


def test_contact_causes_uptake_at_the_literature_effect_size():
    """The synthetic world responds to outreach: among contacted people who had not done it,
    a call / letter / text adds the Cochrane CD003941.pub3 absolute effect; nobody after a
    refusal or a wrong number, nobody who did it anyway, nothing dated after the extract."""
    from dagster_project.synthetic import outreach as S

    n = 6000
    channel = (["phone", "letter", "sms"] * n)[:n]
    outcome = ["booked"] * (n - 400) + ["declined"] * 200 + ["wrong_number"] * 200
    outcomes = pl.DataFrame({"project": "flu_vaccination", "pseudo_id": [f"p{i}" for i in range(n)],
                             "practice_code": "A1", "contact_date": "2026-10-05", "channel": channel,
                             "outcome": outcome})
    records = pl.DataFrame({"pseudo_id": [f"p{i}" for i in range(n)], "practice_code": "A1",
                            "record_id": [str(i) for i in range(n)]})
    already = pl.DataFrame({"project": ["flu_vaccination"], "pseudo_id": ["p0"]})
    caused = S.caused_events(outcomes, records, already, dt.date(2026, 11, 1), seed=3)
    ids = set(caused["pseudo_id"])
    assert "p0" not in ids and not ids & {f"p{i}" for i in range(n - 400, n)}
    assert caused["event_date"].min() > dt.date(2026, 10, 5) and caused["event_date"].max() < dt.date(2026, 11, 1)
    by = caused.join(outcomes.select("pseudo_id", "channel"), on="pseudo_id").group_by("channel").len()
    rate = {c: k / (channel[: n - 400].count(c)) for c, k in by.iter_rows()}
    assert abs(rate["phone"] - (0.287 - 0.164) / (1 - 0.164)) < 0.025
    assert abs(rate["letter"] - (0.412 - 0.320) / (1 - 0.320)) < 0.025
    assert abs(rate["sms"] - (0.208 - 0.161) / (1 - 0.161)) < 0.02
    # written as gp.events rows with real codes of the project's cluster
    table = S.codelists()
    events = S.as_gp_events(caused, S.uptake_codes(table), first_id=100, seed=3)
    flu = set(table.filter(pl.col("cluster_id") == "FLUVAX_COD")["code"])
    assert set(events["snomed_code"]) <= flu and events["event_id"].min() == 100
    assert events.columns == S.EVENT_COLUMNS


def test_the_newest_month_waits_for_last_months_outreach(tmp_path):
    """make run holds every extract of the newest month M back while the outcomes loop is
    due (M not ingested, no outcomes delivered for the day before M), so that the synthetic
    practices can record what the contacts caused in M's GP extract."""
    from dagster_project.lib.zones import Zones
    from dagster_project.outreach import loop
    from dagster_project.sources import raw_zone
    from dagster_project.sources.registry import load_registry

    zones = Zones.at(tmp_path)
    assert loop.held_back(zones) is None and loop.loop_dates(zones) is None  # nothing landed
    (zones.landing / "gp" / "2026-10-01").mkdir(parents=True)
    assert loop.held_back(zones) is None  # one month: no previous release to follow up
    (zones.landing / "gp" / "2026-11-01").mkdir(parents=True)
    assert loop.loop_dates(zones) == ("2026-10-01", "2026-10-31", "2026-11-01")
    assert loop.held_back(zones) == "2026-11-01"
    (zones.landing / "outreach" / "2026-10-31").mkdir(parents=True)
    assert loop.held_back(zones) is None  # outcomes delivered: the loop has run
    (zones.landing / "outreach" / "2026-10-31").rmdir()
    spec = load_registry()["gp__events"]
    done = zones.raw / spec.source / spec.table / "extract_date=2026-11-01"
    done.mkdir(parents=True)
    (done / raw_zone.PARTITION_FILE).write_bytes(b"")
    assert loop.held_back(zones) is None  # M already ingested: too late to record an effect


def test_asked_not_to_be_contacted_is_a_standing_preference_every_later_plan_honours(tmp_path):
    """Hand-made people and outreach outcomes in a warehouse: 'do_not_contact' told on one
    call (even months ago, even followed by a later contact for another project) keeps the
    person off every later plan; 'no_calls' / 'no_texts' only remove that channel."""
    import duckdb

    from dagster_project.outreach import release as R

    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema staging")
    con.execute("""create table staging.stg_outreach__outcomes as select * from (values
        ('flu_vaccination', 'dnc', date '2026-03-02', 'phone', 'do_not_contact'),
        ('bp_checks', 'dnc', date '2026-05-02', 'letter', 'not_reached'),
        ('flu_vaccination', 'nocalls', date '2026-03-02', 'phone', 'no_calls'),
        ('flu_vaccination', 'notexts', date '2026-03-02', 'sms', 'no_texts'),
        ('flu_vaccination', 'later', date '2026-12-01', 'phone', 'do_not_contact'),
        ('flu_vaccination', 'fine', date '2026-03-02', 'phone', 'declined'))
        as t(project, pseudo_id, contact_date, channel, outcome)""")
    con.close()
    history, _ = R.warehouse_facts(db, "2026-11-01")
    ids = ["dnc", "nocalls", "notexts", "later", "fine"]
    mobile = "07700 900001"
    people = (_people(pseudo_id=ids, phone=[mobile] * 5, address_line=["1 Mill Road"] * 5, postcode=["NR1 1AA"] * 5,
                      preferred=[["phone", "sms", "letter"], ["phone", "sms", "letter"], ["sms", "phone", "letter"],
                                 ["phone", "sms", "letter"], ["phone", "sms", "letter"]])
              .drop("phone_failed").join(history, on="pseudo_id", how="left"))
    facts = dict(zip(history["pseudo_id"], history["do_not_contact"]))
    assert facts["dnc"] is True and "later" not in facts  # outcomes after the run date are not known yet
    got = P.choose_channel(people)
    assert got["channel"].to_list() == [None, "sms", "phone", "phone", "phone"]
    assert got["channel_reason"][0] == "asked not to be contacted (outreach outcome)"
    planned = P.schedule(got.with_columns(need_rank=pl.int_range(pl.len()) + 1, recently_contacted=pl.lit(False)),
                         {"phone": 10, "sms": 10, "letter": 10}, [dt.date(2026, 11, 2)])
    status = dict(zip(planned["pseudo_id"], planned["status"]))
    assert status["dnc"] == P.DO_NOT_CONTACT and planned.filter(pl.col("pseudo_id") == "dnc")["worklist_date"][0] is None
    assert {status[i] for i in ids[1:]} == {P.SCHEDULED}


def test_simulated_team_records_standing_refusals_at_the_stated_rates():
    """The simulated outcomes produce do_not_contact / no_calls / no_texts at the per-channel
    STANDING_REFUSAL rates, one draw per conversation (every project of a person agrees),
    never instead of an acceptance."""
    import numpy as np

    from dagster_project.synthetic import outreach as S

    n = 30000
    frame = pl.DataFrame({"project": "flu_vaccination", "pseudo_id": [f"p{i}" for i in range(n)],
                          "practice_code": "A1", "contact_date": "2026-10-05",
                          "channel": (["phone", "sms", "letter"] * n)[:n],
                          "outcome": (["declined"] * 9 + ["accepted"])[:10] * (n // 10)})
    both = pl.concat([frame, frame.with_columns(pl.lit("covid_vaccination").alias("project"))])
    got = S.standing_refusals(both, np.random.default_rng(1))
    per_person = got.group_by("pseudo_id").agg(pl.col("outcome").n_unique().alias("k"))
    assert per_person["k"].max() == 1  # the same answer for both projects of the conversation
    assert got.filter(pl.col("outcome").is_in(["do_not_contact", "no_calls", "no_texts"]))[
        "pseudo_id"].is_in(frame.filter(pl.col("outcome") == "accepted")["pseudo_id"]).sum() == 0
    first = got.filter(pl.col("project") == "flu_vaccination")
    for channel, rates in S.STANDING_REFUSAL.items():
        sent = first.filter(pl.col("channel") == channel)
        for outcome, rate in rates.items():
            share = (sent["outcome"] == outcome).sum() / sent.height
            assert abs(share - 0.9 * rate) < 0.004, (channel, outcome, share)
    assert set(first.filter(pl.col("channel") == "letter")["outcome"]) <= {"declined", "accepted", "do_not_contact"}
    assert set(S.RETURNED) >= {"do_not_contact", "no_calls", "no_texts"}
