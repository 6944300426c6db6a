"""The outreach release of one date: the plan across projects, channel files per approved
practice, dated worklists within capacity (files, gates, audit; logic in `plan`).

`published/outreach/<run_date>/`:
- `plan.parquet` (pseudonymised): one row per person - practice, projects, need rank,
  channel and why, interpreter needed, worklist date, status (scheduled, carried_over,
  held_back_fatigue, no_contact_route, do_not_contact: the person asked the outreach team
  not to be contacted - outcome `do_not_contact` of any earlier contact);
- `summary.csv`: people per channel and status (counts 1-7 suppressed);
- `direct_care/<practice_code>/` for practices with `direct_care_approved = Y` only, from the
  identity zone: `calls.csv` (worklist date, priority, NHS number, name, date of birth,
  phone, reasons in plain words, interpreter: which language when recorded), `sms.csv` (send date, mobile, first name,
  template id), `letters.csv` (send date, name, address line, postcode, reasons, format:
  standard / large print / Easyread, language when not English) and the
  practice's data-quality return `dq_return.csv` (see `dq_returns`).

Written to a staging folder, gated (no identifier in the pseudonymised files, one channel
row per scheduled person, worklists within capacity, no call-list row carrying an NHS
number the GP extract records for a deceased person), swapped in, `latest.json` moved, and
every attempt appended to `published/audit_log.jsonl` with who and why.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from dagster_project.cohorts import contacts, publish
from dagster_project.cohorts.disclosure import shown_expr
from dagster_project.cohorts.registry import load_projects
from dagster_project.lib.files import write_json_atomic
from dagster_project.lib.zones import Zones
from dagster_project.outreach import dq_returns
from dagster_project.outreach import plan as P

FOLDER = "outreach"
PLAN_COLUMNS = ["pseudo_id", "practice_code", "top_project", "projects", "n_projects", "need_rank", "carried_over",
                "channel", "channel_reason", "interpreter_needed", "language", "bsl_interpreter_needed", "letter_format",
                "worklist_date", "status", "verify_identity"]


# what the plan reads of a person's coded communication needs (mart_outreach_contact_needs)
NEEDS = {"pseudo_id": pl.String, "interpreter_needed": pl.Boolean, "main_language": pl.String,
         "required_contact_method": pl.String, "bsl_interpreter_needed": pl.Boolean, "information_format": pl.String}


@dataclass
class OutreachRelease:
    run_date: str
    path: Path
    people: int
    by_channel: dict[str, int]
    by_status: dict[str, int]
    practices: list[str]
    dq_by_kind: dict[str, int]
    gates: list[publish.GateResult]


def release_date(zones: Zones) -> str | None:
    """The newest run date any project has published (latest.json)."""
    dates = [p["run_date"] for pid in load_projects() if (p := publish.latest(zones, pid))]
    return max(dates) if dates else None


def load_releases(zones: Zones, run_date: str) -> pl.DataFrame:
    """Every project's release of `run_date`: project, title, preferred channels, pseudo_id,
    practice_code, priority_rank, reasons."""
    parts = []
    for pid, project in load_projects().items():
        path = zones.published / pid / run_date / "cohort.parquet"
        if not path.exists():
            continue
        parts.append(pl.read_parquet(path, columns=["project", "pseudo_id", "practice_code", "priority_rank", "reasons"])
                     .with_columns(pl.lit(project.title).alias("title"),
                                   pl.lit(list(project.channels), pl.List(pl.String)).alias("preferred")))
    if not parts:
        raise FileNotFoundError(f"no project has a release for {run_date} under {zones.published}: publish first")
    return pl.concat(parts)


def previous_carried(zones: Zones, run_date: str) -> pl.DataFrame:
    root = zones.published / FOLDER
    earlier = sorted(p for p in root.glob("????-??-??") if p.name < run_date and (p / "plan.parquet").exists()) \
        if root.exists() else []
    if not earlier:
        return pl.DataFrame(schema={"pseudo_id": pl.String})
    return pl.read_parquet(earlier[-1] / "plan.parquet").filter(pl.col("status") == P.CARRIED).select("pseudo_id")


def warehouse_facts(warehouse: Path, run_date: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(contact history per person: last_contact_date, phone_failed, phone_unanswered,
    do_not_contact, no_calls, no_texts;
    contact needs per person: NEEDS) from the pseudonymised warehouse."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {r[0] for r in con.sql(
            "select table_schema || '.' || table_name from information_schema.tables").fetchall()}
        if "staging.stg_outreach__outcomes" in tables:
            history = con.execute("""
                select pseudo_id, max(contact_date) as last_contact_date,
                       coalesce(arg_max(outcome, contact_date) filter (where channel = 'phone') = 'wrong_number', false)
                           as phone_failed,
                       coalesce(arg_max(outcome, contact_date) filter (where channel = 'phone') = 'not_reached', false)
                           as phone_unanswered,
                       -- standing preferences told to the outreach team: every later plan honours them
                       bool_or(outcome = 'do_not_contact') as do_not_contact,
                       bool_or(outcome = 'no_calls') as no_calls,
                       bool_or(outcome = 'no_texts') as no_texts
                from staging.stg_outreach__outcomes where contact_date <= ? group by pseudo_id""", [run_date]).pl()
        else:
            history = pl.DataFrame(schema={"pseudo_id": pl.String, "last_contact_date": pl.Date,
                                           "phone_failed": pl.Boolean, "phone_unanswered": pl.Boolean,
                                           "do_not_contact": pl.Boolean, "no_calls": pl.Boolean,
                                           "no_texts": pl.Boolean})
        needs = (con.sql(f"select {', '.join(NEEDS)} from marts.mart_outreach_contact_needs").pl()
                 if "marts.mart_outreach_contact_needs" in tables
                 else pl.DataFrame(schema=NEEDS))
    finally:
        con.close()
    return history, needs


def build_plan(zones: Zones, run_date: str, config: P.OutreachConfig,
               records: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(plan with identity details joined - never written as is -, releases); `records`:
    `contacts.gp_records` when the caller has read them already."""
    releases = load_releases(zones, run_date)
    conv = P.conversations(releases, previous_carried(zones, run_date))
    preferred = releases.join(conv.select("pseudo_id", pl.col("top_project").alias("project")),
                              on=["pseudo_id", "project"]).select("pseudo_id", "preferred")
    history, needs = warehouse_facts(zones.warehouse_db, run_date)
    details = contacts.lookup(zones, conv.select("pseudo_id", "practice_code"), records).drop("practice_code")
    plan = (conv.join(preferred, on="pseudo_id", how="left")
            .join(history, on="pseudo_id", how="left")
            .join(needs, on="pseudo_id", how="left")
            .join(details, on="pseudo_id", how="left"))
    plan = P.hold_back(plan, history.select("pseudo_id", "last_contact_date").drop_nulls(), run_date,
                       config.fatigue_days)
    plan = P.choose_channel(plan)
    start = dt.date.fromisoformat(run_date) + dt.timedelta(days=1)
    days = P.working_days(start, config.horizon_days, config.working_days)
    return P.schedule(plan, capacity_of(zones, config), days), releases


def capacity_of(zones: Zones, config: P.OutreachConfig) -> dict[str, int]:
    """The team's daily capacity per channel for this ICS's registered population."""
    con = duckdb.connect(str(zones.warehouse_db), read_only=True)
    try:
        population = con.sql("select count(*) from intermediate.int_cohort_population").fetchone()[0]
    finally:
        con.close()
    return config.capacity_for(population)


def channel_files(plan: pl.DataFrame, config: P.OutreachConfig) -> dict[str, pl.DataFrame]:
    """The three tool-shaped files (all practices; split per practice by the caller)."""
    scheduled = plan.filter(pl.col("status") == P.SCHEDULED).sort("worklist_date", "need_rank").with_columns(
        # the practice's own order: 1 = highest need among its people on the worklists
        pl.col("need_rank").rank("ordinal").over("practice_code", "channel").cast(pl.Int32).alias("priority"),
        # Royal Mail format for the envelope: upper case, one space before the inward code
        pl.col("postcode").str.to_uppercase().str.replace_all(r"\s", "")
        .str.replace(r"^(.+)(\d[A-Z]{2})$", "$1 $2").alias("postcode"))
    calls = scheduled.filter(pl.col("channel") == "phone").select(
        "practice_code", "worklist_date", "priority", "nhs_number", "name",
        "date_of_birth", "phone", "reasons",
        # which interpreter to book: the main spoken language when recorded
        pl.when(pl.col("interpreter_needed") & pl.col("language").is_not_null())
        .then(pl.concat_str(pl.col("language"), pl.lit(" interpreter")))
        .when(pl.col("interpreter_needed")).then(pl.lit("interpreter needed (language not recorded)"))
        .otherwise(pl.lit("")).alias("interpreter"),
        pl.when(pl.col("verify_identity")).then(pl.lit("VERIFY IDENTITY before discussing care"))
        .otherwise(pl.lit("")).alias("verify_identity"))
    sms = scheduled.filter(pl.col("channel") == "sms").select(
        "practice_code", pl.col("worklist_date").alias("send_date"), pl.col("phone").alias("mobile"),
        pl.col("given_name").str.to_titlecase().alias("first_name"),
        pl.col("top_project").replace_strict(config.sms_templates, default=config.default_sms_template).alias("template_id"))
    letters = scheduled.filter(pl.col("channel") == "letter").select(
        "practice_code", pl.col("worklist_date").alias("send_date"), "name", "address_line", "postcode", "reasons",
        pl.col("letter_format").fill_null("standard").alias("format"),
        # main spoken language when not English: the letter goes out in (or with) that language
        pl.col("language").fill_null("").alias("language"))
    return {"calls": calls, "sms": sms, "letters": letters}


def summarise(plan: pl.DataFrame, suppress_below: int) -> pl.DataFrame:
    counts = pl.concat([
        plan.group_by(pl.lit("channel").alias("dimension"), pl.col("channel").fill_null("none").alias("group")).len(),
        plan.group_by(pl.lit("status").alias("dimension"), pl.col("status").alias("group")).len(),
        plan.filter(pl.col("status") == P.SCHEDULED).group_by(
            pl.lit("worklist_date x channel").alias("dimension"),
            pl.concat_str(pl.col("worklist_date").cast(pl.String), pl.lit(" x "), pl.col("channel")).alias("group")).len(),
    ]).sort("dimension", "group")
    return counts.select("dimension", "group", shown_expr(pl.col("len"), suppress_below).alias("people"))


def publish_outreach(zones: Zones, run_date: str | None = None, run_id: str | None = None,
                     config: P.OutreachConfig | None = None, suppress_below: int = 8,
                     who: dict | None = None) -> OutreachRelease:
    config = config or P.load_config()
    run_date = run_date or release_date(zones)
    if run_date is None:
        raise FileNotFoundError(f"no project release under {zones.published}: publish the cohorts first")
    warehouse = zones.warehouse_db
    keys = contacts.read_pseudo_keys(zones)  # once per release: the plan and the DQ return share them
    records = contacts.gp_records(zones, keys)
    plan, _ = build_plan(zones, run_date, config, records)
    dq = dq_returns.build(zones, run_date, keys, records)
    plan = dq_returns.flag_identity(plan, dq)

    root = zones.published / FOLDER
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".staging-{run_date}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    plan.select(PLAN_COLUMNS).write_parquet(staging / "plan.parquet")
    summarise(plan, suppress_below).write_csv(staging / "summary.csv")
    dq_counts = dq.group_by("kind").len().sort("kind")
    dq_counts.select("kind", shown_expr(pl.col("len"), suppress_below).alias("records")).write_csv(
        staging / "dq_summary.csv")

    approved = sorted(publish.approved_practices(warehouse))
    files = channel_files(plan, config)
    written: dict[str, dict[str, int]] = {}
    for practice in approved:
        folder = staging / "direct_care" / practice
        rows = {name: frame.filter(pl.col("practice_code") == practice).drop("practice_code")
                for name, frame in files.items()}
        returned = dq_returns.for_practice(dq, practice)
        if not any(r.height for r in rows.values()) and not returned.height:
            continue
        folder.mkdir(parents=True)
        for name, frame in rows.items():
            frame.write_csv(folder / f"{name}.csv")
        returned.write_csv(folder / "dq_return.csv")
        written[practice] = {**{n: r.height for n, r in rows.items()}, "dq_return": returned.height}

    capacity = capacity_of(zones, config)
    gates = run_gates(staging, plan, files, capacity, dq)
    failed = [g for g in gates if not g.passed]
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    who = publish._who(run_id, who)  # the same "who" as every other audit line (lib/audit_who.py)
    base = {"when": now, **who, "project": FOLDER, "run_date": run_date}
    manifest = {"run_date": run_date, "created_at": now, **who, "config": config.__dict__,
                "capacity_per_day": capacity,
                "gates": [g.__dict__ for g in gates], "files": sorted(str(p.relative_to(staging))
                                                                    for p in staging.rglob("*") if p.is_file())}
    write_json_atomic(staging / "release.json", manifest)
    if failed:
        quarantine = root / ".failed" / f"{run_date}-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S%f')}"
        quarantine.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, quarantine)
        publish.append_audit(zones, {**base, "what": "outreach_plan", "status": "blocked", "path": str(quarantine),
                                     "failed_gates": [g.gate for g in failed]})
        raise publish.ReleaseBlocked(FOLDER, run_date, failed, quarantine)
    final = root / run_date
    if final.exists():
        old = root / f".superseded-{run_date}-{uuid.uuid4().hex[:8]}"
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)
    write_json_atomic(root / publish.LATEST, {"run_date": run_date, "path": str(final), "published_at": now,
                                                       "people": plan.height})
    publish.append_audit(zones, {**base, "what": "outreach_plan", "status": "published", "rows": plan.height,
                                 "path": str(final)})
    for kind, why in (("calls", "direct care: invitation calls"), ("sms", "direct care: invitation texts"),
                      ("letters", "direct care: invitation letters"),
                      ("dq_return", "data-quality return to the practice")):
        by_practice = {p: n[kind] for p, n in written.items() if n[kind]}
        if by_practice:
            publish.append_audit(zones, {**base, "what": f"direct_care_{kind}", "why": why, "status": "published",
                                         "rows": sum(by_practice.values()), "practices": sorted(by_practice),
                                         "rows_by_practice": by_practice, "path": str(final / "direct_care"),
                                         "reidentified_from": "identity zone (pseudo_keys, contact_details)"})
    return OutreachRelease(
        run_date, final, plan.height,
        dict(plan.group_by(pl.col("channel").fill_null("none")).len().iter_rows()),
        dict(plan.group_by("status").len().iter_rows()), sorted(written),
        dict(dq.group_by("kind").len().iter_rows()), gates)


def run_gates(staging: Path, plan: pl.DataFrame, files: dict[str, pl.DataFrame], capacity: dict[str, int],
              dq: pl.DataFrame) -> list[publish.GateResult]:
    gates = []
    problems = publish.identifier_problems(pl.read_parquet(staging / "plan.parquet"), "plan.parquet")
    for name in ("summary.csv", "dq_summary.csv"):
        problems += publish.identifier_problems(pl.read_csv(staging / name, infer_schema_length=0), name)
    gates.append(publish.GateResult("no_direct_identifiers", not problems, "; ".join(problems) or "none found"))
    scheduled = plan.filter(pl.col("status") == P.SCHEDULED)
    rows = sum(f.height for f in files.values())
    dupes = plan["pseudo_id"].n_unique() != plan.height
    gates.append(publish.GateResult("one_conversation_per_person", rows == scheduled.height and not dupes,
                                    f"{scheduled.height} scheduled people, {rows} channel-file rows"
                                    + ("; a person appears twice in the plan" if dupes else "")))
    over = (scheduled.group_by("worklist_date", "channel").len()
            .filter(pl.col("len") > pl.col("channel").replace_strict(capacity, return_dtype=pl.Int64)))
    gates.append(publish.GateResult("worklists_within_capacity", over.height == 0,
                                    f"{over.height} day(s) over capacity" if over.height else
                                    f"capacity per day {capacity}"))
    dead = set(dq.filter(pl.col("kind") == dq_returns.DECEASED_NUMBER)["nhs_number"].drop_nulls().to_list())
    bad = files["calls"].filter(pl.col("nhs_number").is_in(list(dead))).height
    gates.append(publish.GateResult("no_deceased_nhs_number_on_call_lists", bad == 0,
                                    f"{bad} call row(s) carry an NHS number recorded for a deceased person" if bad
                                    else f"checked against {len(dead)} such number(s)"))
    return gates
