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
- the channel is the one the release assigned the person (`channel` column of the
  release's outreach plan when present), else one of the project's channels;
- it writes `landing/outreach/<extract_date>/outcomes.csv` (never overwrites a delivery).

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
RETURNED = ("booked", "referred", "reached", "declined", "not_reached", "wrong_number")
# "accepted" is returned as what it means for the project: a booking or a referral
REFERRAL_PROJECTS = frozenset({"talking_therapies", "dpp"})
DEPRIVATION_ACCEPT_RATIO = 0.7  # acceptance in IMD quintile 1 relative to quintile 5
COLUMNS = ["project", "pseudo_id", "practice_code", "contact_date", "channel", "outcome"]


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
    return _returned(frame)


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
    return _returned(frame.with_columns(pl.Series("outcome", outcome),
                                        pl.col("worklist_date").cast(pl.String).alias("contact_date")))


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
