"""End-of-life trajectories, palliative-care registers and the maturing of frailty coding.

Three things real primary care data has and a memoryless generator lacks:

- **The last year of life.** About 1% of a registered population dies each year, and the
  year before death is when care is most intensive (emergency admissions rise several-fold;
  Bardsley et al., Nuffield Trust 2010). Every person gets a death day: the one drawn by
  the timeline when they die within it, otherwise a latent one after the last extract from
  the same kind of hazard (so that people alive on the last extract can be in their last
  year of life, as a real list always has some). `eol_day` = death day less a year.
- **Palliative-care registers** (QOF PC001, PALCARE_COD). About half of the people who die
  are on a palliative care register before death, more with cancer (Stow et al., BJGP 2018;
  register prevalence in England ~0.4-0.6% of the list). A coded person's first code comes
  a few months before death (longer for organ failure and frailty than for cancer), then
  reviews recur until death or the last extract.
- **Programme referrals.** Referrals to the NHS Diabetes Prevention Programme (DPPREF_COD)
  for adults on the non-diabetic hyperglycaemia register, so that NDPP uptake and its
  deprivation gradient can be measured.
- **Frailty coding that matures.** Frailty identification became a GMS contract
  requirement in 2017 and recording rose year on year; the share of frail people aged 65+
  with a frailty assessment coded in a year climbs (FRAILTY_CODING_SHARE), and so does the
  recording of falls (an eFI deficit). A model fitted in one coding regime and applied in
  another drifts; the warehouse calibrates frailty within each period (macro frailty_as_of).

Codes come from the project's code lists (PALCARE_COD, MILD/MOD/SEVFRAIL_COD, EFI_COD,
FALLS_COD); nothing here invents a code.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.synthetic import config as C
from dagster_project.synthetic.clinical import FRAILTY_CLUSTERS, EventBuilder, pick_codes

YEAR = 365.25
LAST_YEAR_OF_LIFE = 365
EPOCH_YEAR = 1970
# Share of frail people aged 65+ whose frailty is assessed and coded in a calendar year
# (rising after the 2017 GMS contract made eFI-based identification routine). Years
# outside the table take the nearest year's share.
FRAILTY_CODING_SHARE = {2018: 0.08, 2019: 0.12, 2020: 0.15, 2021: 0.22, 2022: 0.30,
                        2023: 0.40, 2024: 0.52, 2025: 0.64, 2026: 0.74, 2027: 0.80}
# Falls coded per person-year by frailty level (fit, mild, moderate, severe) at full
# coding maturity, scaled by the year's coding share relative to the most recent year.
FALLS_RATE = (0.02, 0.15, 0.35, 0.60)
# Probability of a palliative care code before death: base, and additions for cancer,
# organ failure (heart failure, COPD), dementia and moderate/severe frailty.
PALLIATIVE_CODED = {"base": 0.35, "cancer": 0.40, "organ_failure": 0.12, "dementia": 0.12,
                    "frail": 0.10}
# Days from the first palliative care code to death: gamma (shape, mean) by trajectory
PALLIATIVE_LEAD = {"cancer": (1.6, 150.0), "other": (1.3, 300.0)}
PALLIATIVE_REVIEW_DAYS = 90
# Referrals to the NHS Diabetes Prevention Programme per person-year on the non-diabetic
# hyperglycaemia register (~150,000 referrals a year against ~3 million on NDH registers in
# England), fewer from deprived areas (uptake gradients, Howarth et al. Diabet Med 2020).
NDPP_REFERRAL_RATE = 0.06
NDPP_DEPRIVATION_RATIO = 0.7  # rate in IMD quintile 1 relative to quintile 5


def annual_death_hazard(people: pl.DataFrame) -> np.ndarray:
    """Gompertz hazard by age raised by frailty, multimorbidity and the killing conditions."""
    age = people["age"].to_numpy().astype(float)
    a, b = C.MORTALITY_GOMPERTZ
    frail_rr = np.array([1.0, 1.6, 2.5, 4.0])[people["frailty"].to_numpy()]
    hazard = np.exp(a + b * age) * frail_rr * (1 + 0.15 * people["n_conditions"].to_numpy())
    for cond, rr in (("cancer", 2.0), ("heart_failure", 1.8), ("copd", 1.4), ("dementia", 1.8)):
        hazard = hazard * np.where(people[f"has_{cond}"].to_numpy(), rr, 1.0)
    return np.minimum(hazard, 0.8)


def assign_end_of_life(people: pl.DataFrame, end_day: int,
                       rng: np.random.Generator) -> pl.DataFrame:
    """Adds death_day (observed, or latent after end_day), eol_day and palliative_day.

    death_day: the timeline's date of death when there is one, else end_day plus an
    exponential waiting time at the person's hazard. eol_day = death_day - 365 when that
    is on or before end_day (the person's last year of life has begun), else null.
    palliative_day: the first palliative care code, on or before end_day, for the people
    coded (null for the rest).
    """
    n = people.height
    hazard = annual_death_hazard(people)
    dod = people["dod"].to_numpy()
    observed = ~people["dod"].is_null().to_numpy()
    latent = end_day + (rng.exponential(1.0, n) / np.maximum(hazard, 1e-6) * YEAR).astype(
        np.int64)
    death = np.where(observed, np.nan_to_num(dod.astype(float), nan=0).astype(np.int64),
                     np.minimum(latent, end_day + 100 * int(YEAR)))
    eol = death - LAST_YEAR_OF_LIFE
    in_last_year = eol <= end_day

    has = {c: people[f"has_{c}"].to_numpy() for c in ("cancer", "heart_failure", "copd",
                                                      "dementia")}
    frail = people["frailty"].to_numpy() >= 2
    p = (PALLIATIVE_CODED["base"] + PALLIATIVE_CODED["cancer"] * has["cancer"]
         + PALLIATIVE_CODED["organ_failure"] * (has["heart_failure"] | has["copd"])
         + PALLIATIVE_CODED["dementia"] * has["dementia"] + PALLIATIVE_CODED["frail"] * frail)
    coded = rng.random(n) < np.minimum(p, 0.9)
    shape = np.where(has["cancer"], PALLIATIVE_LEAD["cancer"][0], PALLIATIVE_LEAD["other"][0])
    mean = np.where(has["cancer"], PALLIATIVE_LEAD["cancer"][1], PALLIATIVE_LEAD["other"][1])
    lead = np.clip(rng.gamma(shape, mean / shape), 7, 3 * YEAR).astype(np.int64)
    first = death - lead
    dob = people["dob"].to_numpy().astype(np.int64)
    coded &= (first <= end_day) & (first > dob) & (people["age"].to_numpy() >= 1)
    return people.with_columns(
        death_day=pl.Series(death.astype(np.int32)),
        eol_day=pl.Series(np.where(in_last_year, eol, -1), dtype=pl.Int32).replace(-1, None),
        palliative_day=pl.Series(np.where(coded, first, -1), dtype=pl.Int32).replace(-1, None),
    )


def coding_share(days: np.ndarray) -> np.ndarray:
    """FRAILTY_CODING_SHARE of the calendar year each day falls in."""
    years = np.clip(EPOCH_YEAR + (days / YEAR).astype(np.int64),
                    min(FRAILTY_CODING_SHARE), max(FRAILTY_CODING_SHARE))
    table = np.array([FRAILTY_CODING_SHARE[y] for y in range(min(FRAILTY_CODING_SHARE),
                                                              max(FRAILTY_CODING_SHARE) + 1)])
    return table[years - min(FRAILTY_CODING_SHARE)]


def make_trajectory_events(people: pl.DataFrame, codes: pl.DataFrame, end_day: int,
                           rng: np.random.Generator) -> pl.DataFrame:
    """GP events: palliative care codes, frailty assessments (severity code and eFI score)
    and falls, in the event frame layout of clinical.make_events."""
    ev = EventBuilder()
    dob = people["dob"].to_numpy().astype(np.int64)
    ref = np.minimum(people["dod"].fill_null(end_day).to_numpy(), end_day).astype(np.int64)
    hist = np.maximum(end_day - int(C.HISTORY_YEARS * YEAR), dob)
    _palliative(ev, people, codes, ref, rng)
    _frailty_assessments(ev, people, codes, dob, hist, ref, rng)
    _falls(ev, people, codes, dob, hist, ref, rng)
    _ndpp_referrals(ev, people, codes, dob, hist, ref, rng)
    return ev.frame().filter((pl.col("day") <= end_day) & (pl.col("day") >= 0))


def _palliative(ev: EventBuilder, people: pl.DataFrame, codes: pl.DataFrame,
                ref: np.ndarray, rng: np.random.Generator) -> None:
    pal_codes = pick_codes(codes, "PALCARE_COD", k=6)
    first = people["palliative_day"].to_numpy()
    who = np.flatnonzero(~np.isnan(first.astype(float)))
    day = first[who].astype(np.int64)
    for _ in range(12):  # the first code, then reviews about every three months
        keep = day <= ref[who]
        who, day = who[keep], day[keep]
        if who.size == 0:
            break
        ev.add(who, day, pal_codes[rng.integers(0, pal_codes.size, who.size)])
        day = day + rng.gamma(4.0, PALLIATIVE_REVIEW_DAYS / 4.0, who.size).astype(np.int64) + 7


def _frailty_assessments(ev: EventBuilder, people: pl.DataFrame, codes: pl.DataFrame,
                         dob: np.ndarray, hist: np.ndarray, ref: np.ndarray,
                         rng: np.random.Generator) -> None:
    """Each calendar year a frail person aged 65+ is assessed and coded with the year's
    coding share; the severity code is sometimes one level milder than the truth (an
    assessment that under-grades), and an eFI score is recorded the same day."""
    frailty = people["frailty"].to_numpy()
    fr = np.flatnonzero(frailty > 0)
    severity = {level: pick_codes(codes, cluster, k=1)[0]
                for level, cluster in FRAILTY_CLUSTERS.items()}
    first_year = EPOCH_YEAR + int(hist.min() / YEAR)
    last_year = EPOCH_YEAR + int(ref.max() / YEAR)
    for year in range(first_year, last_year + 1):
        start = int((year - EPOCH_YEAR) * YEAR)
        when = start + rng.integers(0, int(YEAR), fr.size)
        ok = (when >= hist[fr]) & (when <= ref[fr]) & (when - dob[fr] >= C.FRAILTY_MIN_AGE * YEAR)
        ok &= rng.random(fr.size) < coding_share(when)
        who, day = fr[ok], when[ok]
        level = frailty[who] - (rng.random(who.size) < 0.15)
        for lv in (1, 2, 3):
            m = level == lv
            ev.add(who[m], day[m], severity[lv])
        score = np.array([0.06, 0.19, 0.30, 0.42])[np.maximum(level, 0)] + rng.uniform(
            -0.05, 0.05, who.size)
        ev.add(who, day, "1084961000000105", np.round(np.maximum(score, 0.0), 2))


def _falls(ev: EventBuilder, people: pl.DataFrame, codes: pl.DataFrame, dob: np.ndarray,
           hist: np.ndarray, ref: np.ndarray, rng: np.random.Generator) -> None:
    """Falls coded among people aged 65+ at a rate by frailty, recorded more as coding matures."""
    frailty = people["frailty"].to_numpy()
    start = np.maximum(hist, dob + int(C.FRAILTY_MIN_AGE * YEAR))
    span = np.maximum(ref - start, 0)
    rate = np.array(FALLS_RATE)[frailty]
    counts = rng.poisson(rate * span / YEAR)
    person = np.repeat(np.arange(frailty.size), counts)
    when = start[person] + (rng.random(person.size) * span[person]).astype(np.int64)
    recorded = rng.random(person.size) < coding_share(when) / max(FRAILTY_CODING_SHARE.values())
    falls_codes = pick_codes(codes, "FALLS_COD", include="(?i)fall", k=4)
    ev.add(person[recorded], when[recorded],
           falls_codes[rng.integers(0, falls_codes.size, int(recorded.sum()))])


def _ndpp_referrals(ev: EventBuilder, people: pl.DataFrame, codes: pl.DataFrame,
                    dob: np.ndarray, hist: np.ndarray, ref: np.ndarray,
                    rng: np.random.Generator) -> None:
    q = people["imd_quintile"].to_numpy().astype(float)
    eligible = people["has_ndh"].to_numpy() & ~people["has_diabetes_t2"].to_numpy() \
        & ~people["has_diabetes_t1"].to_numpy()
    rate = np.where(eligible, NDPP_REFERRAL_RATE * NDPP_DEPRIVATION_RATIO ** ((5 - q) / 4), 0.0)
    start = np.maximum(hist, dob + int(18 * YEAR))
    span = np.maximum(ref - start, 0)
    referred = rng.random(rate.size) < 1 - np.exp(-rate * span / YEAR)  # once each
    who = np.flatnonzero(referred)
    when = start[who] + (rng.random(who.size) * span[who]).astype(np.int64)
    # DPPREF_COD is a local cluster (codelist_local_codes.csv) until the PCD refsets load
    local = pl.read_csv(C.SEEDS / "codelists" / "codelist_local_codes.csv", infer_schema_length=0)
    dpp = pick_codes(pl.concat([codes.select("cluster_id", "code", "term"),
                                local.select("cluster_id", "code", "term")]), "DPPREF_COD", k=1)
    ev.add(who, when, dpp[rng.integers(0, dpp.size, who.size)])
