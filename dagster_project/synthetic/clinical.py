"""Long-term conditions, risk factors and the coded GP history (events, medications).

Conditions are assigned per person with a risk that rises with age and deprivation and
differs by sex (C.CONDITIONS), then topped up among the living after deaths are drawn
(calibrate_living_prevalence) so that the registers of the living at the reference date
land on England's QOF figures (C.QOF_PREVALENCE). The coded journal then follows from the person: a diagnosis code (dated years
back when the condition is old), resolved codes for a few, repeated observations with
values (HbA1c, BMI, blood pressure), smoking status, frailty, care home, carers,
pregnancy, flu and COVID vaccinations per season/campaign, cervical screening at its
recall interval, hysterectomy, declines and the Type 1 opt-out code. All codes are
drawn from the project's code lists; every step is vectorised over people.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from dagster_project.synthetic import config as C
from dagster_project.synthetic.people import day

YEAR = 365.25
AT_RISK = ("diabetes_t1", "diabetes_t2", "copd", "asthma", "chd", "ckd", "heart_failure",
           "stroke", "immunosuppressed", "learning_disability")
FRAILTY_CLUSTERS = {1: "MILDFRAIL_COD", 2: "MODFRAIL_COD", 3: "SEVFRAIL_COD"}


def load_codelists() -> pl.DataFrame:
    """The published code lists and the project's curated local clusters, as one frame."""
    cols = ["cluster_id", "code", "term", "coding_system"]
    return pl.concat([pl.read_csv(C.CODELIST_CSV, infer_schema_length=0).select(cols),
                      pl.read_csv(C.LOCAL_CODELIST_CSV, infer_schema_length=0).select(cols)])


def pick_codes(codes: pl.DataFrame, cluster: str, include: str = "", exclude: str = "",
               k: int = 8) -> np.ndarray:
    """A few plausible codes of a cluster: filtered by term, generic (short) terms first."""
    d = codes.filter(pl.col("cluster_id") == cluster)
    if d.height == 0:
        raise KeyError(f"code list cluster {cluster!r} not found in {C.CODELIST_CSV}")
    if include:
        d2 = d.filter(pl.col("term").str.contains(include))
        d = d2 if d2.height else d
    if exclude:
        d2 = d.filter(~pl.col("term").str.contains(exclude))
        d = d2 if d2.height else d
    return d.sort(pl.col("term").str.len_chars(), "code").head(k)["code"].to_numpy()


def draw(codes: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n codes drawn with Zipf-like weights (the first, most generic, most often)."""
    w = 1.0 / np.arange(1, codes.size + 1) ** 1.2
    return codes[rng.choice(codes.size, size=n, p=w / w.sum())]


def dep_factor(quintile: np.ndarray, ratio: float) -> np.ndarray:
    """Relative risk by IMD quintile: `ratio` in quintile 1 vs 5, geometric in between."""
    return ratio ** ((5 - quintile) / 4.0)


def interp_knots(age: np.ndarray, knots: tuple[tuple[int, float], ...]) -> np.ndarray:
    k = np.array(knots, dtype=float)
    return np.interp(age, k[:, 0], k[:, 1])


# --------------------------------------------------------------------------- people level
def condition_risk(cond: C.Condition, age: np.ndarray, female: np.ndarray, q: np.ndarray,
                   has: dict[str, np.ndarray]) -> np.ndarray:
    """Relative risk of a condition by age, sex, deprivation and earlier conditions."""
    rr = interp_knots(age, cond.age_knots) * np.where(female, cond.female_rr, 1.0)
    rr = rr * dep_factor(q, cond.dep_ratio)
    for other, mult in cond.comorbid:
        rr = rr * np.where(has[other], mult, 1.0)
    return rr


def excluded(cond: C.Condition, has: dict[str, np.ndarray], n: int) -> np.ndarray:
    """People who cannot have the condition because they have one it excludes."""
    out = np.zeros(n, dtype=bool)
    for other in C.EXCLUSIVE.get(cond.name, ()):
        out = out | has[other]
    return out


def count_conditions(has: dict[str, np.ndarray]) -> np.ndarray:
    return np.sum([has[c.name] for c in C.CONDITIONS if c.name != "ndh"], axis=0)


def assign_conditions(people: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Condition flags (has_<name>), risk factors, frailty (0-3) and n_conditions."""
    n = people.height
    age = people["age"].to_numpy().astype(float)
    female = people["sex"].to_numpy() == "F"
    q = people["imd_quintile"].to_numpy().astype(float)
    has: dict[str, np.ndarray] = {}
    for cond in C.CONDITIONS:
        rr = condition_risk(cond, age, female, q, has)
        eligible = (age >= cond.min_age) & ~excluded(cond, has, n)
        rr = np.where(eligible, rr, 0.0)
        target = cond.prevalence * (eligible.sum() if cond.min_age else n)
        p = np.minimum(rr * target / max(rr.sum(), 1e-9), 0.95)
        has[cond.name] = rng.random(n) < p
    n_cond = count_conditions(has)

    # smoking: 0 never, 1 ex, 2 current (adults)
    adult = age >= 16
    cur = C.SMOKING["current"] * dep_factor(q, C.SMOKING_DEP_RATIO) / 1.35 \
        * np.where(age > 70, 0.5, 1.0)
    ex = C.SMOKING["ex"] * np.clip(age / 50, 0.3, 1.6)
    u = rng.random(n)
    smoking = np.where(~adult, 0, np.where(u < cur, 2, np.where(u < cur + ex, 1, 0)))
    smoking = np.where(has["copd"] & (smoking == 0), 1 + (rng.random(n) < 0.4), smoking)

    # frailty among 65+: a latent score from age and multimorbidity, cut at shares
    older = age >= C.FRAILTY_MIN_AGE
    latent = 0.09 * (age - 65) + 0.45 * n_cond + rng.normal(0, 1.0, n)
    frailty = np.zeros(n, dtype=np.int8)
    if older.any():
        s = C.FRAILTY_SHARES
        cuts = np.quantile(latent[older], [1 - s["mild"] - s["moderate"] - s["severe"],
                                           1 - s["moderate"] - s["severe"], 1 - s["severe"]])
        frailty = np.where(older, np.searchsorted(cuts, latent), 0).astype(np.int8)

    # BMI baseline: ~30% of adults obese, more in deprived areas
    obese = adult & (rng.random(n) < C.OBESITY_SHARE * dep_factor(q, 1.35) / 1.15
                     * np.where(has["diabetes_t2"], 1.8, 1.0))
    bmi = np.where(obese, 30 + rng.gamma(1.6, 3.2, n), np.clip(rng.normal(25.0, 2.8, n), 16.5, 29.9))
    bmi = np.where(age < 16, np.clip(rng.normal(18, 2.5, n), 13, 28), bmi)
    carehome = (age >= 85) & (rng.random(n) < C.CAREHOME_85PLUS) | \
        (age >= 75) & (age < 85) & (rng.random(n) < 0.025) | \
        has["dementia"] & (age >= 75) & (rng.random(n) < C.CAREHOME_DEMENTIA_75PLUS)
    carer = (age >= 18) & (age <= 80) & (rng.random(n) < C.CARER_RATE)
    hysterectomy = female & (age >= 50) & (rng.random(n) < C.HYSTERECTOMY_50PLUS)
    subtotal = female & ~hysterectomy & (age >= 40) & (rng.random(n) < C.SUBTOTAL_HYSTERECTOMY_40PLUS)
    lletz = female & ~hysterectomy & (age >= 25) & (age < 50) & (rng.random(n) < C.LLETZ_25_49)
    trans_cervix = ~female & (rng.random(n) < C.TRANS_MEN_WITH_CERVIX)
    type1_opt_out = rng.random(n) < C.TYPE1_OPT_OUT_RATE
    return people.with_columns(
        **{f"has_{k}": pl.Series(v) for k, v in has.items()},
        n_conditions=pl.Series(n_cond.astype(np.int8)),
        smoking=pl.Series(smoking.astype(np.int8)),
        frailty=pl.Series(frailty),
        bmi_base=pl.Series(np.round(bmi, 1)),
        carehome=pl.Series(carehome),
        carer=pl.Series(carer),
        hysterectomy=pl.Series(hysterectomy),
        subtotal_hysterectomy=pl.Series(subtotal),
        lletz=pl.Series(lletz),
        has_cervix=pl.Series((female & ~hysterectomy) | trans_cervix),
        type1_opt_out=pl.Series(type1_opt_out),
    )


def calibrate_living_prevalence(people: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Conditions topped up (or thinned) among the living so that, at the reference date,
    each condition's prevalence among the living people old enough for it is
    C.Condition.prevalence / (1 - resolved_share).

    QOF prevalence is counted over the living registered list, but conditions are first
    assigned to everyone generated, including the people who die within the history
    (timeline.assign_deaths: the old, frail and multimorbid die most). Without this step
    the registers of conditions of old age came out 20-40% below England's figures
    (dementia 0.48% of the living against ~0.75%). The shortfall among the living is drawn
    with the same risk model (age, sex, deprivation, earlier conditions), and the same
    draw is applied to the people who died, so that a condition is no rarer among the
    dead than among the living of the same risk (a risk model fitted on people alive two
    years ago, some of whom have died since, must see the same association as one fitted a
    year later). Resolved codes (resolved_share) take people off a register, so the
    flag's target is raised by that share. people needs dod, age,
    sex, imd_quintile, carehome and the has_<condition> flags; n_conditions is recomputed.
    """
    n = people.height
    age = people["age"].to_numpy().astype(float)
    female = people["sex"].to_numpy() == "F"
    q = people["imd_quintile"].to_numpy().astype(float)
    alive = people["dod"].is_null().to_numpy()
    has = {c.name: people[f"has_{c.name}"].to_numpy().copy() for c in C.CONDITIONS}
    for cond in C.CONDITIONS:
        old_enough = (age >= cond.min_age) & ~excluded(cond, has, n)
        eligible = alive & old_enough
        holders = has[cond.name] & eligible
        gap = cond.prevalence / (1 - cond.resolved_share) * eligible.sum() - holders.sum()
        # the same draw for the living and the dead: conditions stay as common among people
        # who die as before (only the living are counted, so only they set the size)
        if gap > 0:
            rr = np.where(old_enough & ~has[cond.name], condition_risk(cond, age, female, q, has),
                          0.0)
            p = np.minimum(rr * gap / max(rr[alive].sum(), 1e-9), 0.95)
            has[cond.name] |= rng.random(n) < p
        elif gap < 0:
            has[cond.name] &= ~(old_enough & (rng.random(n) < -gap / holders.sum()))
    for cond in C.CONDITIONS:  # exclusions hold after the top-up too
        has[cond.name] &= ~excluded(cond, has, n)
    # people with dementia live in care homes more (as in assign_conditions)
    new_dementia = has["dementia"] & ~people["has_dementia"].to_numpy()
    carehome = people["carehome"].to_numpy() | (new_dementia & (age >= 75)
                                                & (rng.random(n) < C.CAREHOME_DEMENTIA_75PLUS))
    return people.with_columns(
        **{f"has_{k}": pl.Series(v) for k, v in has.items()},
        n_conditions=pl.Series(count_conditions(has).astype(np.int8)),
        carehome=pl.Series(carehome),
    )


# --------------------------------------------------------------------------- events
class EventBuilder:
    """Collects event columns as numpy arrays; one frame at the end."""

    def __init__(self) -> None:
        self.parts: list[pl.DataFrame] = []

    def add(self, person: np.ndarray, when: np.ndarray, code: np.ndarray | str,
            value: np.ndarray | None = None, unit: str | None = None) -> None:
        m = person.size
        if m == 0:
            return
        codes = np.full(m, code) if isinstance(code, str) else code
        self.parts.append(pl.DataFrame({
            "person_idx": person.astype(np.int32),
            "day": when.astype(np.int32),
            "snomed_code": pl.Series(codes.astype(str), dtype=pl.String),
            "value": pl.Series(value, dtype=pl.Float64) if value is not None
            else pl.Series([None] * m, dtype=pl.Float64),
            "unit": pl.Series([unit] * m, dtype=pl.String) if unit else
            pl.Series([None] * m, dtype=pl.String),
        }))

    def frame(self) -> pl.DataFrame:
        # categorical codes and units keep tens of millions of events small in memory
        return pl.concat(self.parts).with_columns(
            pl.col("snomed_code").cast(pl.Categorical), pl.col("unit").cast(pl.Categorical))


def poisson_dates(rate: np.ndarray, start: np.ndarray, end: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Events at `rate` per year between start and end days: (person index, day)."""
    span = np.maximum(end - start, 0)
    counts = rng.poisson(np.maximum(rate, 0) * span / YEAR)
    person = np.repeat(np.arange(rate.size, dtype=np.int32), counts)
    when = start[person] + (rng.random(person.size) * span[person]).astype(np.int64)
    return person, when


def latent_uptake(p: np.ndarray, z_person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli(p) per person and occasion, correlated across occasions (copula)."""
    z = 0.8 * z_person + 0.6 * rng.normal(0, 1, z_person.size)
    cdf = 1.0 / (1.0 + np.exp(-1.702 * z))  # logistic approximation of the normal CDF
    return cdf < p


def make_events(people: pl.DataFrame, codes: pl.DataFrame, end_day: int,
                rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(gp events, gp medications) for every person over the whole timeline.

    events: person_idx, day, snomed_code, value, unit. medications: person_idx, day,
    dmd_code. Nothing is dated after death or after end_day.
    """
    n = people.height
    ev = EventBuilder()
    dob = people["dob"].to_numpy().astype(np.int64)
    ref = np.minimum(people["dod"].fill_null(end_day).to_numpy(), end_day).astype(np.int64)
    age_end = (ref - dob) / YEAR
    hist = np.maximum(end_day - int(C.HISTORY_YEARS * YEAR), dob)
    female = people["sex"].to_numpy() == "F"
    q = people["imd_quintile"].to_numpy().astype(float)
    z_person = rng.normal(0, 1, n) + 0.15 * (3 - q)  # deprived areas engage less (high z = no)
    flags = {c.name: people[f"has_{c.name}"].to_numpy() for c in C.CONDITIONS}
    diag: dict[str, np.ndarray] = {}

    # Diagnoses (and resolutions): onset uniformly between onset age and now.
    for cond in C.CONDITIONS:
        who = np.flatnonzero(flags[cond.name])
        lo = dob[who] + int(cond.onset_min_age * YEAR)
        if cond.onset_within_years:
            lo = np.maximum(lo, ref[who] - int(cond.onset_within_years * YEAR))
        lo = np.minimum(lo, ref[who])
        # recent diagnoses are commoner than very old ones (incidence, survival)
        frac = rng.beta(1.6, 1.0, who.size)
        d = lo + (frac * (ref[who] - lo)).astype(np.int64)
        full = np.full(n, -1, dtype=np.int64)
        full[who] = d
        diag[cond.name] = full
        cl_codes = pick_codes(codes, cond.cluster, cond.include, cond.exclude)
        ev.add(who, d, draw(cl_codes, who.size, rng))
        if cond.recurrence_share:
            # a later episode of a relapsing condition is coded again (QOF DEP004 counts the
            # latest episode since 2006-04-01, so a first episode long ago alone drops out)
            again = np.flatnonzero(rng.random(who.size) < cond.recurrence_share)
            lo2 = np.maximum(d[again], day(C.RECURRENCE_FROM))
            span2 = np.maximum(ref[who[again]] - lo2, 0)
            ev.add(who[again], lo2 + (rng.random(again.size) * span2).astype(np.int64),
                   draw(cl_codes, again.size, rng))
        if cond.resolved_cluster:
            res = who[rng.random(who.size) < cond.resolved_share]
            span = ref[res] - diag[cond.name][res]
            r_day = diag[cond.name][res] + (rng.random(res.size) * span).astype(np.int64) + 1
            keep = r_day <= ref[res]
            res_codes = pick_codes(codes, cond.resolved_cluster, k=3)
            ev.add(res[keep], r_day[keep], draw(res_codes, int(keep.sum()), rng))

    diabetes = flags["diabetes_t1"] | flags["diabetes_t2"]
    dm_diag = np.maximum(diag["diabetes_t1"], diag["diabetes_t2"])
    hba1c_codes = np.array(["999791000000106", "1049321000000109", "1049301000000100"])
    # HbA1c: diabetics twice a year from diagnosis (>= 48), NDH yearly (42-47)
    dm = np.flatnonzero(diabetes)
    base = np.maximum(rng.normal(58, 11, dm.size), 48)
    person, when = poisson_dates(np.full(dm.size, C.HBA1C_RATE["diabetes"]),
                                 np.maximum(hist[dm], dm_diag[dm]), ref[dm], rng)
    person = np.concatenate([np.arange(dm.size), person])
    when = np.concatenate([dm_diag[dm], when])
    val = np.maximum(np.round(base[person] + rng.normal(0, 5, person.size)), 48)
    ev.add(dm[person], when, draw(hba1c_codes, person.size, rng), val, "mmol/mol")
    ndh = np.flatnonzero(flags["ndh"])
    person, when = poisson_dates(np.full(ndh.size, C.HBA1C_RATE["ndh"]),
                                 np.maximum(hist[ndh], diag["ndh"][ndh]), ref[ndh], rng)
    person = np.concatenate([np.arange(ndh.size), person])
    when = np.concatenate([diag["ndh"][ndh], when])
    ev.add(ndh[person], when, draw(hba1c_codes, person.size, rng),
           rng.integers(42, 48, person.size).astype(float), "mmol/mol")

    # Blood pressure: systolic and diastolic on the same day
    adult_start = np.maximum(hist, dob + int(18 * YEAR))
    hyp = flags["hypertension"]
    rate = (C.BP_RATE["base"] + C.BP_RATE["hypertension"] * hyp + C.BP_RATE["diabetes"]
            * diabetes + C.BP_RATE["ckd"] * flags["ckd"])
    sbp = np.where(hyp, rng.normal(141, 12, n), rng.normal(112 + 0.35 * age_end, 11, n))
    person, when = poisson_dates(rate, adult_start, ref, rng)
    s_val = np.round(sbp[person] + rng.normal(0, 8, person.size))
    d_val = np.round(s_val * 0.52 + 12 + rng.normal(0, 6, person.size))
    sys_codes = np.array(["271649006", "163030003", "407554009", "72313002"])
    sys_codes = sys_codes[np.isin(sys_codes, codes.filter(
        pl.col("cluster_id") == "SYSBP_COD")["code"].to_numpy())]
    ev.add(person, when, draw(sys_codes, person.size, rng), s_val, "mmHg")
    ev.add(person, when, draw(np.array(["271650006", "163031004", "407555005"]), person.size,
                              rng), d_val, "mmHg")

    # BMI
    bmi = people["bmi_base"].to_numpy()
    obese = bmi >= 30
    rate = C.BMI_RATE["base"] + C.BMI_RATE["diabetes"] * diabetes + C.BMI_RATE["obese"] * obese
    person, when = poisson_dates(rate, adult_start, ref, rng)
    ev.add(person, when, draw(np.array(["60621009", "846931000000101"]), person.size, rng),
           np.round(bmi[person] + rng.normal(0, 0.7, person.size), 1), "kg/m2")

    # Smoking status: one recorded status in the window for most adults, a few more
    smoking = people["smoking"].to_numpy()
    adult16 = np.maximum(hist, dob + int(16 * YEAR))
    person, when = poisson_dates(np.full(n, C.SMOKING_STATUS_RATE), adult16, ref, rng)
    first = np.flatnonzero((ref > adult16) & (rng.random(n) < 0.85))
    person = np.concatenate([first, person])
    when = np.concatenate([adult16[first] + (rng.random(first.size)
                                             * (ref[first] - adult16[first])).astype(np.int64),
                           when])
    status_codes = {
        0: pick_codes(codes, "GMSDE_SMOKING_NEVER", k=3),
        1: pick_codes(codes, "EXSMOK_COD", include="(?i)^ex-", k=6),
        2: pick_codes(codes, "LSMOK_COD", include="(?i)smoker", k=6),
    }
    st = smoking[person]
    for s, cl in status_codes.items():
        m = st == s
        ev.add(person[m], when[m], draw(cl, int(m.sum()), rng))

    # Frailty codes, eFI scores and falls: synthetic/trajectories.py (coding matures)

    # Care home, carers, Type 1 opt-out
    for flag, cluster, include, years in (
        ("carehome", "CAREHOME_COD", "(?i)lives in|resident in|care home", 3),
        ("carer", "CARER_COD", "(?i)carer|caregiver", 6),
    ):
        who = np.flatnonzero(people[flag].to_numpy())
        when = np.maximum(ref[who] - rng.integers(0, int(years * YEAR), who.size), dob[who])
        ev.add(who, when, draw(pick_codes(codes, cluster, include, k=4), who.size, rng))
    who = np.flatnonzero(people["type1_opt_out"].to_numpy() & (ref > hist))
    when = hist[who] + (rng.random(who.size) * (ref[who] - hist[who])).astype(np.int64)
    ev.add(who, when, C.TYPE1_OPT_OUT_CODE)

    # Pregnancy for women 16-45 in the window
    fertile_lo = np.maximum(hist, dob + int(16 * YEAR))
    fertile_hi = np.minimum(ref, dob + int(45 * YEAR))
    person, when = poisson_dates(np.where(female, 0.055, 0.0), fertile_lo, fertile_hi, rng)
    ev.add(person, when, draw(pick_codes(codes, "PREG_COD", "(?i)pregnan",
                                         "(?i)tobacco|alcohol|drug|complicat|abnormal"),
                              person.size, rng))

    # Gynaecological procedures (years back): total hysterectomy removes the cervix;
    # subtotal hysterectomy and LLETZ/cone biopsy leave it (screening continues)
    for flag, cluster, include, from_age in (
        ("hysterectomy", "CERVIX_REMOVED_COD", "(?i)^total|^radical|vaginal hysterectomy", 38),
        ("subtotal_hysterectomy", "CERVIX_RETAINED_COD", "(?i)subtotal|supracervical", 35),
        ("lletz", "CERVIX_RETAINED_COD", "(?i)loop|cone biopsy|transformation zone", 25),
    ):
        hy = np.flatnonzero(people[flag].to_numpy())
        lo = np.minimum(dob[hy] + int(from_age * YEAR), ref[hy])
        when = lo + (rng.random(hy.size) * np.maximum(ref[hy] - lo, 0)).astype(np.int64)
        ev.add(hy, when, draw(pick_codes(codes, cluster, include, k=4), hy.size, rng))

    _vaccinations(ev, people, codes, flags, dob, ref, q, z_person, end_day, rng)
    _cervical_screening(ev, people, codes, dob, ref, hist, q, rng)
    _programme_codes(ev, people, codes, flags, diag, dob, ref, hist, female, rng)

    events = ev.frame().filter((pl.col("day") <= end_day) & (pl.col("day") >= 0))
    meds = _medications(flags, codes, dob, ref, end_day, rng)
    return events, meds


def _season_starts(end_day: int, seasons: int) -> list[dt.date]:
    end = dt.date(1970, 1, 1) + dt.timedelta(days=end_day)
    last = end.year if end.month >= 9 else end.year - 1
    return [dt.date(y, 9, 1) for y in range(last - seasons + 1, last + 1)]


def _vaccinations(ev: EventBuilder, people: pl.DataFrame, codes: pl.DataFrame,
                  flags: dict[str, np.ndarray], dob: np.ndarray, ref: np.ndarray,
                  q: np.ndarray, z_person: np.ndarray, end_day: int,
                  rng: np.random.Generator) -> None:
    n = people.height
    at_risk = np.zeros(n, dtype=bool)
    for c in AT_RISK:
        at_risk |= flags[c]
    at_risk |= people["carer"].to_numpy() | people["carehome"].to_numpy() | \
        (people["bmi_base"].to_numpy() >= 40)
    flu_codes = pick_codes(codes, "FLUVAX_COD", "(?i)influenza vaccination",
                           "(?i)intranasal|second|not given|declin", k=4)
    nasal_codes = pick_codes(codes, "FLUVAX_COD", "(?i)intranasal", "(?i)second", k=2)
    depf = dep_factor(q, C.FLU_DEP_RATIO) / np.mean(dep_factor(q, C.FLU_DEP_RATIO))
    for start in _season_starts(end_day, C.FLU_SEASONS):
        s = day(start)
        age = (s + 212 - dob) / YEAR  # age at 31 March
        p = np.where(age >= 65, C.FLU_UPTAKE_65,
                     np.where((age >= 18) & at_risk, C.FLU_UPTAKE_AT_RISK,
                              np.where((age >= 2) & (age < 16), 0.45, 0.0)))
        vacc = latent_uptake(p * depf, z_person, rng)
        when = s + rng.gamma(2.0, 22.0, n).astype(np.int64)
        vacc &= (when <= np.minimum(ref, s + 211)) & (when > dob)
        who = np.flatnonzero(vacc)
        child = age[who] < 16
        code = np.where(child, draw(nasal_codes, who.size, rng), draw(flu_codes, who.size, rng))
        ev.add(who, when[who], code)
        # a recorded decline for some of the eligible who were not vaccinated
        declined = np.flatnonzero((p > 0) & ~vacc & (dob < s) & (rng.random(n) < C.FLU_DECLINE))
        dd = s + 30 + rng.integers(0, 120, declined.size)
        keep = dd <= ref[declined]
        ev.add(declined[keep], dd[keep], pick_codes(codes, "FLUDEC_COD", k=1)[0])

    # COVID-19: primary course in 2021 for over-50s and the vulnerable, then campaigns
    carehome = people["carehome"].to_numpy()
    immuno = flags["immunosuppressed"]
    age21 = (day(dt.date(2021, 1, 1)) - dob) / YEAR
    primary = ((age21 >= 50) | carehome | immuno) & \
        latent_uptake(np.full(n, 0.9) * depf, z_person, rng)
    d1 = day(dt.date(2021, 1, 4)) + (np.clip(80 - age21, 0, 40) * 2.5).astype(np.int64) \
        + rng.integers(0, 30, n)
    d2 = d1 + rng.integers(56, 84, n)
    for dose_day, cluster in ((d1, "COVADM1_COD"), (d2, "COVADM2_COD")):
        who = np.flatnonzero(primary & (dose_day <= ref) & (dose_day > dob))
        ev.add(who, dose_day[who], draw(pick_codes(codes, cluster, k=2), who.size, rng))
    decl_codes = pick_codes(codes, "COV1DECL_COD", k=3)
    for start_s, end_s, cluster in C.COVID_CAMPAIGNS:
        s, e = day(dt.date.fromisoformat(start_s)), day(dt.date.fromisoformat(end_s))
        if s > end_day:
            continue
        age = (s - dob) / YEAR
        autumn = dt.date.fromisoformat(start_s).month >= 9
        eligible = (age >= 75) | carehome | immuno | (autumn & (age >= 65) & (s < day(
            dt.date(2024, 9, 1))))
        eligible &= (ref > s) & (dob < s)
        vacc = eligible & latent_uptake(np.full(n, C.COVID_UPTAKE) * depf, z_person, rng)
        when = s + np.minimum(rng.gamma(1.5, 18.0, n).astype(np.int64), e - s)
        vacc &= when <= ref
        who = np.flatnonzero(vacc)
        ev.add(who, when[who], draw(pick_codes(codes, cluster, k=2), who.size, rng))
        declined = np.flatnonzero(eligible & ~vacc & (rng.random(n) < C.COVID_DECLINE * 3))
        dd = s + rng.integers(0, max(e - s, 1), declined.size)
        keep = dd <= ref[declined]
        ev.add(declined[keep], dd[keep], draw(decl_codes, int(keep.sum()), rng))
        contra = np.flatnonzero(eligible & ~vacc & (rng.random(n) < C.COVID_CONTRAINDICATED))
        ev.add(contra, np.minimum(s + rng.integers(0, 60, contra.size), ref[contra]),
               pick_codes(codes, "COVCONTRA_COD", k=1)[0])


def _cervical_screening(ev: EventBuilder, people: pl.DataFrame, codes: pl.DataFrame,
                        dob: np.ndarray, ref: np.ndarray, hist: np.ndarray, q: np.ndarray,
                        rng: np.random.Generator) -> None:
    """Screening every 3 years (25-49) or 5 years (50-64), C.CERVICAL_HISTORY_YEARS deep.

    Each test is a procedure code and its HPV result (HPV-negative mostly). The covered are
    up to date; of the rest some never screened and the others lapsed, with their old tests
    on record - deep enough to tell lapsed from never screened. The overdue often carry a
    status code (due, not attended) that is not a test; some declined, a few were ceased.
    """
    n = people.height
    cervix = people["has_cervix"].to_numpy()
    age = (ref - dob) / YEAR
    interval = np.where(age < 50, 3.0, 5.0) * YEAR
    depf = dep_factor(q, C.CERVICAL_DEP_RATIO)
    covered = rng.random(n) < C.CERVICAL_COVERAGE * depf / np.mean(depf) * 1.02
    never = ~covered & (rng.random(n) < C.CERVICAL_NEVER_SHARE)
    deep = np.maximum(ref - int(C.CERVICAL_HISTORY_YEARS * YEAR), dob)
    # the most recent test: within the interval if covered, else overdue by months to years
    last = ref - (rng.random(n) * interval).astype(np.int64)
    last = np.where(covered, last, last - interval.astype(np.int64)
                    - rng.integers(30, 1500, n))
    test_codes = pick_codes(codes, "CS_TEST_COD", "(?i)screening|cytology|sampling|smear",
                            "(?i)result|negative|positive|dyskar|other healthcare", k=5)
    hpv_neg = pick_codes(codes, "CS_HPVNEG_COD", k=1)[0]
    hpv_pos = pick_codes(codes, "CS_HPVPOS_COD", "(?i)^cervical smear - human", k=1)[0]
    for k in range(6):
        when = last - (k * interval + rng.integers(-60, 60, n)).astype(np.int64)
        a = (when - dob) / YEAR
        ok = cervix & ~never & (a >= 24.5) & (a < 65) & (when >= deep) & (when <= ref)
        who = np.flatnonzero(ok)
        ev.add(who, when[who], draw(test_codes, who.size, rng))
        # an HPV-positive test is followed by a 12-month repeat, so among the latest tests
        # only the few positives still awaiting (or missing) their repeat remain
        positive = rng.random(who.size) < (C.CERVICAL_HPV_POSITIVE_LATEST if k == 0
                                           else C.CERVICAL_HPV_POSITIVE)
        ev.add(who, when[who] + 14, np.where(positive, hpv_pos, hpv_neg))

    in_range = cervix & (age >= 24.5) & (age < 65)
    overdue = in_range & ~covered
    # status codes that are not tests: smear due / not attended (must not reset recall)
    status = pick_codes(codes, "GMSDE_CERVICAL_SMEAR", "(?i)smear due|not attended|overdue", k=3)
    who = np.flatnonzero(overdue & (rng.random(n) < C.CERVICAL_STATUS_CODES))
    ev.add(who, ref[who] - rng.integers(10, 700, who.size), draw(status, who.size, rng))
    # declined (informed choice) within the last three years
    who = np.flatnonzero(overdue & (rng.random(n) < C.CERVICAL_DECLINE))
    ev.add(who, ref[who] - rng.integers(10, 1000, who.size),
           draw(pick_codes(codes, "CSDEC_COD", k=2), who.size, rng))
    # ceased (screening not indicated) among older women
    who = np.flatnonzero(in_range & (age >= 50) & (rng.random(n) < C.CERVICAL_CEASED))
    ev.add(who, ref[who] - rng.integers(30, 1500, who.size),
           pick_codes(codes, "CSPU_COD", "(?i)not indicated", k=1)[0])


def _programme_codes(ev: EventBuilder, people: pl.DataFrame, codes: pl.DataFrame,
                     flags: dict[str, np.ndarray], diag: dict[str, np.ndarray], dob: np.ndarray,
                     ref: np.ndarray, hist: np.ndarray, female: np.ndarray,
                     rng: np.random.Generator) -> None:
    """Codes the outreach rules read beyond diagnoses: residence (care home, moved out, own
    home), household contacts of immunosuppressed people, asthma admissions, severe-obesity
    codes, rarer flu risk groups, fasting glucose tests, gestational diabetes history and
    NHS Diabetes Prevention Programme invitations / referrals / declines."""
    n = people.height
    age = (ref - dob) / YEAR
    adult = age >= 18
    alive_span = np.maximum(ref - hist, 1)

    def some_day(who: np.ndarray, back_days: int) -> np.ndarray:
        return np.maximum(ref[who] - rng.integers(0, back_days, who.size), dob[who])

    # Residence: long-stay residents carry a care home residence code, often years old
    # (no look-back: the latest residence code decides); a few moved out to their own home
    # after a care home code; some adults have an ordinary housing code.
    own_home = pick_codes(codes, "RESIDE_COD", "(?i)lives in own home|lives in house|lives in flat", k=3)
    care = pick_codes(codes, "LONGRES_COD", "(?i)care home|nursing home|residential home", k=3)
    who = np.flatnonzero(people["carehome"].to_numpy())
    ev.add(who, some_day(who, int(6 * YEAR)), draw(care, who.size, rng))
    left = np.flatnonzero((age >= 70) & ~people["carehome"].to_numpy() & (rng.random(n) < C.CARE_HOME_LEFT))
    first = some_day(left, int(3 * YEAR))
    ev.add(left, first, draw(care, left.size, rng))
    moved = np.minimum(first + rng.integers(30, 400, left.size), ref[left])
    ev.add(left, moved, draw(own_home, left.size, rng))
    who = np.flatnonzero(adult & ~people["carehome"].to_numpy() & (rng.random(n) < C.RESIDENCE_CODE_RATE))
    ev.add(who, some_day(who, int(5 * YEAR)), draw(own_home, who.size, rng))

    # Household contacts of immunocompromised people
    who = np.flatnonzero(adult & (rng.random(n) < C.HOUSEHOLD_CONTACT_IMMUNO))
    ev.add(who, some_day(who, int(4 * YEAR)), pick_codes(codes, "HHLD_IMDEF_COD", k=1)[0])

    # Asthma emergency admissions (PRIMIS ASTADM) in the last two years
    who = np.flatnonzero(flags["asthma"] & (rng.random(n) < C.ASTHMA_ADMISSION))
    ev.add(who, some_day(who, int(2 * YEAR)), draw(pick_codes(codes, "ASTADM_COD", k=2), who.size, rng))

    # Severe obesity code alongside a BMI of 40+
    bmi = people["bmi_base"].to_numpy()
    who = np.flatnonzero(adult & (bmi >= 40) & (rng.random(n) < C.SEVERE_OBESITY_CODE))
    ev.add(who, some_day(who, int(3 * YEAR)), draw(pick_codes(codes, "SEV_OBESITY_COD", k=2), who.size, rng))

    # Rarer flu risk groups: chronic liver disease, asplenia, nephrotic syndrome, neurological
    for cluster, include, share, min_age in C.EXTRA_RISK_GROUPS:
        who = np.flatnonzero((age >= min_age) & (rng.random(n) < share))
        when = hist[who] + (rng.random(who.size) * alive_span[who]).astype(np.int64)
        ev.add(who, when, draw(pick_codes(codes, cluster, include, k=4), who.size, rng))

    # Fasting plasma glucose: NDH people (5.5-6.9 mostly), a few adults 40+ (normal),
    # diabetics (7+); one test in the last two years per person tested
    ndh = flags["ndh"]
    diabetic = flags["diabetes_t1"] | flags["diabetes_t2"]
    tested = (age >= 40) & (rng.random(n) < np.where(ndh, 0.35, C.FPG_TEST_RATE * 2))
    who = np.flatnonzero(tested)
    value = np.where(ndh[who], rng.uniform(5.5, 6.95, who.size),
                     np.where(diabetic[who], rng.uniform(7.0, 11.0, who.size),
                              rng.normal(5.0, 0.45, who.size)))
    ev.add(who, some_day(who, int(2 * YEAR)), pick_codes(codes, "GLUC_COD", k=1)[0],
           np.round(value, 1), "mmol/L")

    # Gestational diabetes in a past pregnancy
    who = np.flatnonzero(female & (age >= 22) & (age <= 50) & (rng.random(n) < C.GDM_HISTORY))
    back = (rng.uniform(1, 15, who.size) * YEAR).astype(np.int64)
    when = np.maximum(ref[who] - back, dob[who] + int(18 * YEAR))
    ev.add(who, when, draw(pick_codes(codes, "GDIAB_COD", "(?i)gestational", k=2), who.size, rng))

    # NHS Diabetes Prevention Programme codes among people with NDH
    for key, cluster in (("invited", "DPPINV_COD"), ("referred", "DPPREF_COD"),
                         ("declined", "DPPDEC_COD")):
        who = np.flatnonzero(ndh & (age >= 18) & (rng.random(n) < C.DPP_CODES[key]))
        ev.add(who, some_day(who, int(3 * YEAR)), pick_codes(codes, cluster, k=1)[0])


def _medications(flags: dict[str, np.ndarray], codes: pl.DataFrame, dob: np.ndarray,
                 ref: np.ndarray, end_day: int, rng: np.random.Generator) -> pl.DataFrame:
    """Repeat issues over the last two years: inhalers for asthma (and repeated oral
    steroids for some asthmatics), immunosuppressants; benzodiazepines (`_benzodiazepines`)."""
    start = np.maximum(end_day - int(2 * YEAR), dob)
    parts = []
    steroids = flags["asthma"] & (rng.random(flags["asthma"].size) < C.ASTHMA_ORAL_STEROIDS)
    for cond, cluster, rate in (("asthma", "ASTRXM1_COD", 4.0),
                                ("immunosuppressed", "IMMRX_COD", 6.0),
                                ("oral_steroids", "ASTRXM2_COD", 2.5)):
        flag = steroids if cond == "oral_steroids" else flags[cond]
        r = np.where(flag, rate, 0.0)
        person, when = poisson_dates(r, start, ref, rng)
        dmd = pick_codes(codes, cluster, k=10)
        # one product per person, repeated
        choice = rng.integers(0, dmd.size, flag.size)
        parts.append(pl.DataFrame({"person_idx": person.astype(np.int32),
                                   "day": when.astype(np.int32),
                                   "dmd_code": dmd[choice[person]].astype(str)}))
    parts.append(_benzodiazepines(codes, dob, ref, end_day, rng))
    return pl.concat(parts)


def _benzodiazepines(codes: pl.DataFrame, dob: np.ndarray, ref: np.ndarray, end_day: int,
                     rng: np.random.Generator) -> pl.DataFrame:
    """Benzodiazepine issues (BENZRX_COD products) at the PHE 2019 adult rate (config), for
    the falls-prevention pilot's falls-risk medication rule: long-term users get monthly
    repeats over the last two years, the others one or two issues in the last year."""
    n = dob.size
    age = (ref - dob) / YEAR
    p = np.where(age >= 65, C.BENZODIAZEPINE_YEAR * C.BENZODIAZEPINE_OLDER_FACTOR,
                 np.where(age >= 18, C.BENZODIAZEPINE_YEAR, 0.0))
    user = rng.random(n) < p
    long_term = user & (rng.random(n) < C.BENZODIAZEPINE_LONG_TERM)
    short = user & ~long_term
    person_l, when_l = poisson_dates(np.where(long_term, 12.0, 0.0), np.maximum(end_day - int(2 * YEAR), dob), ref, rng)
    person_s, when_s = poisson_dates(np.where(short, 1.5, 0.0), np.maximum(end_day - int(YEAR), dob), ref, rng)
    person = np.concatenate([person_l, person_s])
    when = np.concatenate([when_l, when_s])
    dmd = pick_codes(codes, "BENZRX_COD", k=13)
    choice = rng.integers(0, dmd.size, n)  # one product per person, repeated
    return pl.DataFrame({"person_idx": person.astype(np.int32), "day": when.astype(np.int32),
                         "dmd_code": dmd[choice[person]].astype(str)})
