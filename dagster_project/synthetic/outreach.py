"""Simulated outreach outcomes for a published cohort (synthetic data only).

The outreach team works through a release's call lists and returns, for each contact, the
landing contract's `outreach/outcomes` row (project, pseudo_id, practice_code, contact_date,
channel, outcome). This simulator stands in for them, deterministically (seeded):

- it contacts the top `contact_share` of each practice's cohort by priority rank, on dates
  spread between the day after the release and the extract date;
- outcomes: accepted (returned as `booked` for a vaccination or screening appointment,
  `referred` for a referral project), reached (spoke, no decision yet), declined,
  not_reached and wrong_number, at plausible rates, with lower acceptance in deprived areas
  (IMD quintile 1 accepts about 0.7 times as often as quintile 5; the difference goes
  unreached);
- some people tell the team not to contact them again (returned as `do_not_contact`, or
  `no_calls` / `no_texts` for one channel), per person and contact at `STANDING_REFUSAL`
  rates. These rates are ASSUMPTIONS: no published rate at which people contacted by NHS
  recall teams ask not to be contacted again was found; they are set well below the
  declines (14%) so that the standing preference stays a minority of them;
- the channel is the one the release assigned the person (`channel` column of the
  release's outreach plan when present), else one of the project's channels;
- it writes `landing/outreach/<extract_date>/outcomes.csv` (never overwrites a delivery).

Contact has an effect in this synthetic world (`caused_events`, used by the outcomes loop
before the next GP extract is ingested): a contacted person who had not yet done what the
project asks does it - a vaccination, a screening test, a blood-pressure reading or a DPP
referral coded in the GP record within three weeks - with the probability the contact adds
in the literature. Jacobson Vann et al., "Patient reminder and recall interventions to
improve immunization rates", Cochrane Database Syst Rev 2018, CD003941.pub3, summary of
findings (received immunisation, reminder or recall vs none): telephone 164 -> 287 per
1,000 (RR 1.75), letter 320 -> 412 (RR 1.29), text message 161 -> 208 (RR 1.29). A person
who would not have acted acts with probability (treated - control) / (1 - control): 14.7%
after a call, 13.5% after a letter, 5.6% after a text; the immunisation figures stand in
for screening, BP checks and referrals (no comparable review per programme here). No
effect after a refusal or a wrong number; none for Talking Therapies (a referral in
another dataset), falls prevention or depression and obesity (no coded uptake).

Demo (after `make run` published releases as of 2026-11-01; the outcomes reach the
warehouse with the next extracts, or rebuild as of the extract date):

    .venv/bin/python -m dagster_project.synthetic.outreach --data-dir data \
        --run-date 2026-11-01 --extract-date 2026-11-30
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from dagster_project.lib.zones import Zones

OUTCOMES = ("accepted", "reached", "declined", "not_reached", "wrong_number")
BASE_RATES = np.array([0.38, 0.10, 0.14, 0.28, 0.10])
# what the outreach team returns (the landing contract's outcome values)
RETURNED = ("booked", "referred", "reached", "declined", "not_reached", "wrong_number",
            "do_not_contact", "no_calls", "no_texts")
# per channel, the share of contacts after which the person asks not to be contacted again
# (at all, or by that channel): ASSUMPTIONS, see the module docstring. A call can end in
# either; a text can be answered STOP (no more texts) or with a request to stop all contact;
# a letter only by a written request to stop all contact.
STANDING_REFUSAL = {"phone": {"do_not_contact": 0.02, "no_calls": 0.01},
                    "sms": {"no_texts": 0.01, "do_not_contact": 0.002},
                    "letter": {"do_not_contact": 0.003}}
# "accepted" is returned as what it means for the project: a booking or a referral
REFERRAL_PROJECTS = frozenset({"talking_therapies", "dpp"})
DEPRIVATION_ACCEPT_RATIO = 0.7  # acceptance in IMD quintile 1 relative to quintile 5
COLUMNS = ["project", "pseudo_id", "practice_code", "contact_date", "channel", "outcome"]
# per channel: (control, reminded) share immunised, Cochrane CD003941.pub3 summary of findings
CONTACT_EFFECT = {"phone": (0.164, 0.287), "letter": (0.320, 0.412), "sms": (0.161, 0.208)}
NO_EFFECT_AFTER = ("declined", "wrong_number", "do_not_contact", "no_calls", "no_texts")
EFFECT_DELAY_DAYS = 21  # the appointment or referral within three weeks of the contact
# what a project's uptake is coded as: (cluster, term include, term exclude) of the code lists
UPTAKE_CODES = {
    "flu_vaccination": ("FLUVAX_COD", "(?i)influenza vaccination", "(?i)intranasal|second|not given|declin"),
    "covid_vaccination": ("OS_COVID_VACC_GIVEN", "", ""),
    "cervical_screening": ("CS_TEST_COD", "(?i)screening|cytology|sampling|smear", ""),
    "bp_checks": ("SYSBP_COD", "", ""),
    "dpp": ("DPPREF_COD", "", ""),
}
DIASTOLIC = ("DIASBP_QOF", "(?i)diastolic", "")
EVENT_COLUMNS = ["event_id", "patient_id", "practice_code", "event_date", "snomed_code", "value", "unit"]


def caused_probability(channel: str) -> float:
    """Chance that a contact by `channel` makes someone act who would not have acted."""
    control, reminded = CONTACT_EFFECT[channel]
    return (reminded - control) / (1 - control)


def caused_events(outcomes: pl.DataFrame, records: pl.DataFrame, already: pl.DataFrame, month: dt.date,
                  seed: int = 0) -> pl.DataFrame:
    """The uptake the contacts caused, as (project, pseudo_id, practice_code, patient_id,
    event_date) before `month` (the next GP extract).

    outcomes: the landing contract's rows; records: pseudo_id, practice_code, record_id of GP
    patients records; already: project, pseudo_id of people who did it anyway after contact."""
    first = (outcomes.filter(pl.col("project").is_in(list(UPTAKE_CODES)))
             .with_columns(pl.col("contact_date").cast(pl.String).str.to_date())
             .sort("contact_date").group_by("project", "pseudo_id", maintain_order=True)
             .agg(pl.col("practice_code").first(), pl.col("contact_date").first(), pl.col("channel").first(),
                  pl.col("outcome").last().alias("latest_outcome"))
             .filter(~pl.col("latest_outcome").is_in(list(NO_EFFECT_AFTER)))
             .join(already.select("project", "pseudo_id"), on=["project", "pseudo_id"], how="anti")
             .sort("project", "pseudo_id"))
    rng = np.random.default_rng(seed)
    p = first["channel"].replace_strict({c: caused_probability(c) for c in CONTACT_EFFECT}, default=0.0,
                                        return_dtype=pl.Float64).to_numpy()
    acts = rng.random(first.height) < p
    delay = rng.integers(1, EFFECT_DELAY_DAYS + 1, first.height)
    caused = first.with_columns(
        pl.Series("acts", acts),
        (pl.col("contact_date") + pl.duration(days=pl.Series(delay))).alias("event_date"),
    ).filter(pl.col("acts") & (pl.col("event_date") < month))
    return (caused.join(records.select("pseudo_id", "practice_code", pl.col("record_id").alias("patient_id")),
                        on=["pseudo_id", "practice_code"], how="inner")
            .unique(["project", "pseudo_id"], keep="first")
            .select("project", "pseudo_id", "practice_code", "patient_id", "event_date"))


def codelists() -> pl.DataFrame:
    """cluster_id, code, term of the code lists the generator uses (published and local)."""
    from dagster_project.synthetic import config as C

    return pl.concat([pl.read_csv(p, infer_schema_length=0).select("cluster_id", "code", "term")
                      for p in (C.CODELIST_CSV, C.LOCAL_CODELIST_CSV)])


def uptake_codes(codes: pl.DataFrame) -> dict[str, np.ndarray]:
    """Per project (and the diastolic reading of a BP check) a few real codes of its cluster."""
    from dagster_project.synthetic.clinical import pick_codes

    out = {project: pick_codes(codes, *spec, k=2) for project, spec in UPTAKE_CODES.items()}
    out["_diastolic"] = pick_codes(codes, *DIASTOLIC, k=1)
    return out


def as_gp_events(caused: pl.DataFrame, codes: dict[str, np.ndarray], first_id: int, seed: int = 0) -> pl.DataFrame:
    """gp.events rows (landing contract) for the caused uptake: one coded event each; a BP
    check is a systolic and a diastolic reading."""
    rng = np.random.default_rng(seed)
    n = caused.height
    code = np.array([codes[p][rng.integers(0, codes[p].size)] for p in caused["project"].to_list()], dtype=object)
    bp = (caused["project"] == "bp_checks").to_numpy()
    systolic = np.round(rng.normal(138, 15, n))
    rows = caused.select("patient_id", "practice_code", "event_date").with_columns(
        pl.Series("snomed_code", code.astype(str)),
        pl.Series("value", np.where(bp, systolic, np.nan)).fill_nan(None),
        pl.when(pl.Series(bp)).then(pl.lit("mmHg")).otherwise(pl.lit(None, pl.String)).alias("unit"))
    diastolic = rows.filter(pl.Series(bp)).with_columns(
        pl.lit(str(codes["_diastolic"][0])).alias("snomed_code"),
        (pl.col("value") * 0.52 + 12).round(0).alias("value"))
    out = pl.concat([rows, diastolic])
    return out.with_columns((pl.int_range(pl.len()) + first_id).alias("event_id")).select(
        "event_id", pl.col("patient_id").cast(pl.String), "practice_code",
        pl.col("event_date").cast(pl.String), "snomed_code", "value", "unit")


def record_caused_uptake(zones: Zones, outcomes_path: Path, month: str, seed: int = 0) -> int:
    """Add the uptake the contacts caused to the GP events extract of `month` before it is
    ingested (the practices' systems recorded it; the extract is cut on `month`). Returns
    the number of events added. Refuses once that extract is in the raw zone."""
    from dagster_project.linkage.pipeline import PSEUDO_KEYS
    from dagster_project.sources import raw_zone
    from dagster_project.sources.registry import load_registry

    if month in raw_zone.published_dates(zones.raw, load_registry()["gp__events"]):
        raise RuntimeError(f"gp events of {month} already ingested: the effect of outreach can only be "
                           "recorded in an extract not yet delivered")
    path = zones.landing / "gp" / month / "events.csv"
    events = pl.read_csv(path, infer_schema_length=0)
    outcomes = pl.read_csv(outcomes_path, infer_schema_length=0)
    records = pl.read_parquet(zones.identity / PSEUDO_KEYS).filter(
        (pl.col("source") == "gp") & (pl.col("table") == "patients")
    ).select("pseudo_id", "practice_code", pl.col("record_id").cast(pl.String))
    table = codelists()
    codes = uptake_codes(table)
    # people who did it anyway after their first contact (the world without the effect):
    # any code of the project's cluster
    first = (outcomes.with_columns(pl.col("contact_date").cast(pl.String).str.to_date())
             .group_by("project", "pseudo_id").agg(pl.col("contact_date").min()))
    clusters = pl.DataFrame({"cluster_id": [c for c, *_ in UPTAKE_CODES.values()], "project": list(UPTAKE_CODES)})
    coded = table.join(clusters, on="cluster_id").select("project", pl.col("code").alias("snomed_code")).unique()
    already = (events.join(coded, on="snomed_code")
               .join(records, left_on=["practice_code", "patient_id"], right_on=["practice_code", "record_id"])
               .join(first, on=["project", "pseudo_id"])
               .filter(pl.col("event_date").str.to_date() >= pl.col("contact_date"))
               .select("project", "pseudo_id").unique())
    caused = caused_events(outcomes, records, already, dt.date.fromisoformat(month), seed)
    ids = events["event_id"].cast(pl.Int64, strict=False)
    added = as_gp_events(caused, codes, int(ids.max() or 0) + 1, seed)
    tmp = path.with_suffix(".csv.tmp")
    pl.concat([events, added.cast(pl.String)]).select(EVENT_COLUMNS).write_csv(tmp)
    tmp.replace(path)
    return caused.height


def outcome_probabilities(imd_quintile: np.ndarray) -> np.ndarray:
    """Per person, the probabilities of OUTCOMES: acceptance falls with deprivation."""
    q = np.where(np.isnan(imd_quintile), 3, imd_quintile)
    factor = DEPRIVATION_ACCEPT_RATIO ** ((5 - q) / 4) / DEPRIVATION_ACCEPT_RATIO ** 0.5
    p = np.tile(BASE_RATES, (q.size, 1))
    accepted = BASE_RATES[0] * factor
    p[:, 3] += BASE_RATES[0] - accepted  # the shortfall goes unreached
    p[:, 0] = accepted
    return p / p.sum(axis=1, keepdims=True)


def simulate(cohort: pl.DataFrame, imd: pl.DataFrame, run_date: dt.date, extract_date: dt.date,
             channels: list[str], contact_share: float = 0.6, seed: int = 0) -> pl.DataFrame:
    """Outcome rows for a release's cohort (pseudo_id, practice_code, priority_rank, project)."""
    rng = np.random.default_rng(seed)
    if cohort.height == 0:
        return pl.DataFrame(schema={c: pl.String for c in COLUMNS})
    sizes = cohort.group_by("practice_code").agg(pl.len().alias("n"))
    frame = (cohort.join(sizes, on="practice_code")
             .filter(pl.col("priority_rank") <= (pl.col("n") * contact_share).ceil())
             .join(imd, on="pseudo_id", how="left").sort("practice_code", "priority_rank"))
    p = outcome_probabilities(frame["imd_quintile"].cast(pl.Float64).fill_null(float("nan")).to_numpy())
    u = rng.random(frame.height)[:, None]
    outcome = np.array(OUTCOMES)[(u > p.cumsum(axis=1)).sum(axis=1).clip(0, len(OUTCOMES) - 1)]
    span = max((extract_date - run_date).days, 1)
    days = rng.integers(1, span + 1, frame.height)
    drawn = np.array(channels)[rng.integers(0, len(channels), frame.height)]
    channel = (frame["channel"].fill_null(pl.Series(drawn)) if "channel" in frame.columns
               else pl.Series(drawn))
    frame = frame.with_columns(pl.Series("channel", channel, dtype=pl.String), pl.Series("outcome", outcome),
                               pl.Series("contact_date", [(run_date + dt.timedelta(days=int(d))).isoformat()
                                                          for d in days]))
    return _returned(standing_refusals(frame, rng))


def simulate_plan(cohort: pl.DataFrame, plan: pl.DataFrame, imd: pl.DataFrame, end: dt.date,
                  seed: int = 0) -> pl.DataFrame:
    """Outcomes when the team works an outreach plan: each scheduled person on a worklist
    dated on or before `end` is contacted that day by the planned channel, and the outcome
    is recorded for each project of the conversation."""
    rng = np.random.default_rng(seed)
    worked = (plan.filter((pl.col("status") == "scheduled") & (pl.col("worklist_date") <= end))
              .select("pseudo_id", "channel", "worklist_date"))
    frame = (cohort.join(worked, on="pseudo_id").join(imd, on="pseudo_id", how="left")
             .sort("practice_code", "priority_rank", "pseudo_id"))
    if frame.height == 0:
        return pl.DataFrame(schema={c: pl.String for c in COLUMNS})
    p = outcome_probabilities(frame["imd_quintile"].cast(pl.Float64).fill_null(float("nan")).to_numpy())
    u = rng.random(frame.height)[:, None]
    outcome = np.array(OUTCOMES)[(u > p.cumsum(axis=1)).sum(axis=1).clip(0, len(OUTCOMES) - 1)]
    frame = frame.with_columns(pl.Series("outcome", outcome),
                               pl.col("worklist_date").cast(pl.String).alias("contact_date"))
    return _returned(standing_refusals(frame, rng))


def standing_refusals(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Replace the outcome of some contacts (one draw per person and contact date, the same
    for every project of that conversation) by a request not to be contacted again, at the
    per-channel `STANDING_REFUSAL` rates; an acceptance is kept (who books does not also ask
    to be left alone)."""
    if frame.height == 0:
        return frame
    contacts = frame.select("pseudo_id", "contact_date", "channel").unique().sort("pseudo_id", "contact_date", "channel")
    u = rng.random(contacts.height)
    asked = np.full(contacts.height, None, dtype=object)
    channels = contacts["channel"].to_numpy()
    for ch, rates in STANDING_REFUSAL.items():
        lo = 0.0
        for outcome, rate in rates.items():
            hit = (channels == ch) & (u >= lo) & (u < lo + rate)
            asked[hit] = outcome
            lo += rate
    contacts = contacts.with_columns(pl.Series("_asked", asked.tolist(), dtype=pl.String))
    return (frame.join(contacts, on=["pseudo_id", "contact_date", "channel"], how="left", maintain_order="left")
            .with_columns(pl.when(pl.col("_asked").is_not_null() & (pl.col("outcome") != "accepted"))
                          .then(pl.col("_asked")).otherwise(pl.col("outcome")).alias("outcome"))
            .drop("_asked"))


def _returned(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("project"), pl.col("pseudo_id"), pl.col("practice_code"), pl.col("contact_date"), pl.col("channel"),
        # a text or a letter cannot report a wrong number or a conversation: only the
        # answer (a booking, a referral) or silence comes back
        pl.when(pl.col("outcome") == "accepted")
        .then(pl.when(pl.col("project").is_in(list(REFERRAL_PROJECTS))).then(pl.lit("referred")).otherwise(pl.lit("booked")))
        .when((pl.col("channel") != "phone") & pl.col("outcome").is_in(["reached", "wrong_number"]))
        .then(pl.lit("not_reached"))
        .otherwise(pl.col("outcome")).alias("outcome"),
    )


def simulate_outreach(zones: Zones, run_date: str, extract_date: str | None = None,
                      projects: list[str] | None = None, contact_share: float = 0.6,
                      seed: int = 0) -> Path:
    """Simulate outcomes for the releases of `run_date` and deliver them to landing."""
    from dagster_project.cohorts.registry import load_projects

    registry = load_projects()
    start = dt.date.fromisoformat(run_date)
    end = dt.date.fromisoformat(extract_date) if extract_date else start + dt.timedelta(days=29)
    con = duckdb.connect(str(zones.warehouse_db), read_only=True)
    try:
        imd = con.sql("select pseudo_id, imd_quintile from marts.dim_person").pl()
    finally:
        con.close()
    plan_path = zones.published / "outreach" / run_date / "plan.parquet"
    plan = pl.read_parquet(plan_path) if plan_path.exists() else None  # read once, not per project
    parts = []
    for i, pid in enumerate(projects or list(registry)):
        path = zones.published / pid / run_date / "cohort.parquet"
        if not path.exists():
            raise FileNotFoundError(f"no release of {pid} for {run_date} at {path}: publish it first")
        cohort = pl.read_parquet(path, columns=["project", "pseudo_id", "practice_code", "priority_rank"])
        if plan is not None:  # work the dated worklists: who, when and by which channel
            parts.append(simulate_plan(cohort, plan, imd, end, seed + i))
        else:
            parts.append(simulate(cohort, imd, start, end, list(registry[pid].channels), contact_share, seed + i))
    outcomes = pl.concat(parts)
    target = zones.landing / "outreach" / end.isoformat() / "outcomes.csv"
    if target.exists():
        raise FileExistsError(f"{target} already delivered: landing is never overwritten; choose another --extract-date")
    target.parent.mkdir(parents=True, exist_ok=True)
    outcomes.write_csv(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--run-date", required=True, help="the releases to work through (published/<project>/<run-date>)")
    parser.add_argument("--extract-date", help="delivery date of the outcomes (default: run date + 29 days)")
    parser.add_argument("--contact-share", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = simulate_outreach(Zones.at(args.data_dir), args.run_date, args.extract_date,
                             contact_share=args.contact_share, seed=args.seed)
    print(f"wrote {pl.read_csv(path).height:,} outreach outcomes to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
