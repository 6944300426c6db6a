"""Hospital, talking therapies, community and social care activity that follows need.

Rates per person-year rise with age, frailty, multimorbidity and deprivation and are
scaled so that the population mean lands on the configured figure (for example about
0.1 emergency admissions per person-year overall). Each record has the day it was made
(`day`) and, for fields filled in later (a discharge date while the patient is still in
hospital, a first treatment date), the day each becomes known, so that increments can
re-send a record when it changes. A small share of records carries a wrong value in its
first version that a later increment corrects.

Emergency admissions have memory and heterogeneity, as in real data (where prior use is
the strongest single predictor of future use; Billings et al., BMJ 2006):
- a latent admission propensity per person (log-normal, higher with frailty and
  deprivation), so people of the same age and conditions differ and prior use predicts
  future use;
- clustering: an emergency admission is followed by a readmission within weeks with a
  probability rising with frailty and in the last year of life (chains of up to three);
- the last year of life (trajectories.assign_end_of_life) multiplies the rate.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.synthetic import config as C
from dagster_project.synthetic.clinical import dep_factor, interp_knots, poisson_dates

YEAR = 365.25

ICD10_BY_CONDITION = {  # SUS style: 4 characters, no dot, X-padded 3-character codes
    "heart_failure": ("I500", "I509", "I110"),
    "copd": ("J441", "J440", "J449"),
    "asthma": ("J459", "J450"),
    "diabetes_t2": ("E119", "E111", "E115"),
    "diabetes_t1": ("E101", "E109", "E111"),
    "chd": ("I214", "I209", "I251", "I200"),
    "atrial_fibrillation": ("I480", "I489", "I481"),
    "stroke": ("I639", "I634", "I64X", "G459"),
    "ckd": ("N179", "N184", "N183"),
    "dementia": ("F039", "F019", "F001"),
    "cancer": ("C349", "C509", "C189", "C619", "C679"),
    "depression": ("F329", "F322"),
    "smi": ("F209", "F319"),
}
ICD10_EMERGENCY = ("R074", "R104", "J189", "N390", "R55X", "L031", "K359", "A099", "J22X",
                   "S099", "R410", "E86X", "K922", "I269", "R509", "S720", "R296", "T784")
ICD10_ELECTIVE = ("H251", "K409", "M170", "M161", "K802", "Z511", "N40X", "D259", "K573",
                  "C509", "M233", "I839", "N200", "K429")
EMERGENCY_METHODS = (("21", 0.70), ("22", 0.12), ("23", 0.03), ("24", 0.05), ("25", 0.01),
                     ("28", 0.05), ("2A", 0.02), ("2B", 0.01), ("2D", 0.01))
ELECTIVE_METHODS = (("11", 0.6), ("12", 0.3), ("13", 0.1))
# ECDS chief complaints and discharge destinations (SNOMED CT concept ids)
ECDS_COMPLAINTS = ("29857009", "21522001", "267036007", "25064002", "161891005", "1912002",
                   "422400008", "386661006", "404640003", "271594007", "91175000",
                   "62315008", "49727002", "271807003", "248062006", "10601006",
                   "419284004")
ECDS_DESTINATIONS = (("306689006", 0.66), ("306706006", 0.24), ("306691003", 0.03),
                     ("19712007", 0.04), ("306705005", 0.01), ("305398007", 0.02))
TFC_BY_CONDITION = {
    "chd": "320", "heart_failure": "320", "atrial_fibrillation": "320", "copd": "340",
    "asthma": "340", "diabetes_t1": "307", "diabetes_t2": "307", "ckd": "361",
    "cancer": "370", "stroke": "328", "dementia": "410",
}
TFC_GENERAL = (("100", 0.10), ("101", 0.08), ("110", 0.16), ("120", 0.07), ("130", 0.14),
               ("300", 0.07), ("301", 0.06), ("320", 0.06), ("330", 0.07), ("340", 0.03),
               ("410", 0.04), ("400", 0.04), ("502", 0.05), ("800", 0.03))
TT_PROBLEMS_ANX = ("gad", "panic", "social_anxiety", "ocd", "ptsd", "health_anxiety", "other")
COMMUNITY_SERVICES_OLD = (("district_nursing", 0.45), ("falls", 0.12), ("rehab", 0.15),
                          ("podiatry", 0.12), ("community_matron", 0.08),
                          ("respiratory", 0.04), ("heart_failure", 0.04))
COMMUNITY_SERVICES_YOUNG = (("physiotherapy", 0.45), ("podiatry", 0.15),
                            ("district_nursing", 0.15), ("rehab", 0.1),
                            ("speech_and_language", 0.15))
SOCIAL_SERVICES_OLD = (("home_care", 0.5), ("residential", 0.14), ("nursing", 0.08),
                       ("day_care", 0.1), ("direct_payment", 0.08), ("reablement", 0.1))
SOCIAL_SERVICES_LD = (("supported_living", 0.35), ("day_care", 0.25),
                      ("direct_payment", 0.25), ("residential", 0.15))


def _pick(options: tuple[tuple[str, float], ...], n: int, rng: np.random.Generator) -> np.ndarray:
    vals = np.array([o[0] for o in options])
    w = np.array([o[1] for o in options])
    return vals[rng.choice(vals.size, size=n, p=w / w.sum())]


def _calibrated(rr: np.ndarray, mean_rate: float, exposure: np.ndarray) -> np.ndarray:
    """Per-person rates proportional to rr with exposure-weighted mean `mean_rate`."""
    return rr * mean_rate * exposure.sum() / max((rr * exposure).sum(), 1e-9)


def _provider(lad_key: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    local = pl.Series(lad_key, dtype=pl.String).replace_strict(
        C.ACUTE_LAD_PROVIDER, default="RM1").to_numpy()
    other = _pick(tuple(C.ACUTE_PROVIDERS.items()), lad_key.size, rng)
    return np.where(rng.random(lad_key.size) < 0.9, local, other)


def _condition_diagnosis(people: pl.DataFrame, person: np.ndarray,
                         rng: np.random.Generator) -> np.ndarray:
    """An ICD-10 code for a condition the person has (random among them), else ''."""
    out = np.full(person.size, "", dtype=object)
    best = np.full(person.size, -1.0)
    for cond, codes in ICD10_BY_CONDITION.items():
        has = people[f"has_{cond}"].to_numpy()[person]
        score = np.where(has, rng.random(person.size), -1.0)
        take = score > best
        best = np.where(take, score, best)
        out[take] = np.array(codes)[rng.integers(0, len(codes), int(take.sum()))]
    return out


class ActivityContext:
    """Per-person arrays shared by the activity tables."""

    def __init__(self, people: pl.DataFrame, start_day: int, end_day: int) -> None:
        self.people = people
        self.n = people.height
        dob = people["dob"].to_numpy().astype(np.int64)
        self.ref = np.minimum(people["dod"].fill_null(end_day).to_numpy(), end_day).astype(
            np.int64)
        self.start = np.maximum(start_day, dob)
        self.exposure = np.maximum(self.ref - self.start, 0) / YEAR
        self.age = people["age"].to_numpy().astype(float)
        self.frailty = people["frailty"].to_numpy()
        self.ncond = people["n_conditions"].to_numpy().astype(float)
        self.q = people["imd_quintile"].to_numpy().astype(float)
        self.lad = people["lad_key"].to_numpy()
        self.end_day = end_day
        # the last year of life, when the generator has drawn it (trajectories.py)
        self.eol = (people["eol_day"].fill_null(end_day + 1).to_numpy().astype(np.int64)
                    if "eol_day" in people.columns else np.full(self.n, end_day + 1))


# Emergency admissions: spread of the latent propensity (sd of its log), its shift per
# frailty level and per IMD quintile step, readmission probability (base, per frailty
# level, extra in the last year of life) and the last-year-of-life rate ratio.
PROPENSITY_SD = 0.8
PROPENSITY_FRAILTY = 0.25
PROPENSITY_DEPRIVATION = 0.10
READMISSION = {"base": 0.08, "frailty": 0.04, "end_of_life": 0.15}
END_OF_LIFE_RR = 4.0


def admission_propensity(ctx: ActivityContext, rng: np.random.Generator) -> np.ndarray:
    """Latent multiplier of each person's emergency admission rate, mean 1."""
    log_u = (PROPENSITY_SD * rng.normal(0, 1, ctx.n) + PROPENSITY_FRAILTY * ctx.frailty
             + PROPENSITY_DEPRIVATION * (3 - ctx.q))
    u = np.exp(log_u)
    return u / u.mean()


EMERGENCY_AGE_KNOTS = ((0, 0.6), (5, 0.25), (18, 0.35), (40, 0.5), (60, 0.95), (70, 1.6),
                       (80, 3.0), (90, 4.5), (100, 5.0))


def _emergency_days(ctx: ActivityContext, rate: np.ndarray,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(person, admission day) of emergency admissions: a Poisson process at `rate`, the
    same again at (END_OF_LIFE_RR - 1) x rate over the last year of life, thinned so that
    the age effect follows the person's age on the day (people age over the history: a
    rate fixed at the age on the last extract would make every earlier year look older
    than it is), then chains of readmissions."""
    person, adm = poisson_dates(rate, ctx.start, ctx.ref, rng)
    eol_start = np.clip(ctx.eol, ctx.start, ctx.ref)
    p2, a2 = poisson_dates(rate * (END_OF_LIFE_RR - 1), eol_start, ctx.ref, rng)
    person, adm = np.concatenate([person, p2]), np.concatenate([adm, a2])
    age_then = ctx.age[person] - (ctx.end_day - adm) / YEAR
    ratio = interp_knots(np.maximum(age_then, 0), EMERGENCY_AGE_KNOTS) / interp_knots(
        ctx.age[person], EMERGENCY_AGE_KNOTS)
    keep = rng.random(person.size) < np.minimum(ratio, 1.0)
    person, adm = person[keep], adm[keep]
    parents_p, parents_a = person, adm
    for _ in range(3):
        in_eol = parents_a >= ctx.eol[parents_p]
        p_re = (READMISSION["base"] + READMISSION["frailty"] * ctx.frailty[parents_p]
                + READMISSION["end_of_life"] * in_eol)
        take = rng.random(parents_p.size) < p_re
        child_p = parents_p[take]
        child_a = parents_a[take] + 2 + rng.gamma(1.5, 10.0, child_p.size).astype(np.int64)
        keep = child_a <= ctx.ref[child_p]
        parents_p, parents_a = child_p[keep], child_a[keep]
        person, adm = np.concatenate([person, parents_p]), np.concatenate([adm, parents_a])
    return person, adm


def make_apc(ctx: ActivityContext, rng: np.random.Generator) -> pl.DataFrame:
    """Admitted patient care spells (emergency and elective)."""
    frail_rr = np.array([1.0, 1.5, 2.3, 3.2])[ctx.frailty]
    rr_em = interp_knots(ctx.age, EMERGENCY_AGE_KNOTS)
    rr_em = rr_em * frail_rr * (1 + 0.3 * ctx.ncond) * dep_factor(ctx.q, 1.5)
    rr_em = rr_em * admission_propensity(ctx, rng)
    # readmissions and the last year of life add about 60% to the base process
    rate_em = _calibrated(rr_em, C.EMERGENCY_ADMISSION_RATE / 1.6, ctx.exposure)
    rr_el = interp_knots(ctx.age, ((0, 0.2), (40, 0.7), (60, 1.5), (75, 2.0), (90, 1.0)))
    rr_el = rr_el * (1 + 0.2 * ctx.ncond)
    rate_el = _calibrated(rr_el, C.ELECTIVE_ADMISSION_RATE, ctx.exposure)
    parts = []
    for emergency, rate in ((True, rate_em), (False, rate_el)):
        if emergency:
            person, adm = _emergency_days(ctx, rate, rng)
        else:
            person, adm = poisson_dates(rate, ctx.start, ctx.ref, rng)
        m = person.size
        age = ctx.age[person]
        if emergency:
            los = np.where(rng.random(m) < 0.25, 0, rng.exponential(2 + 0.09 * age)).astype(int)
            method = _pick(EMERGENCY_METHODS, m, rng)
            generic = np.array(ICD10_EMERGENCY)[rng.integers(0, len(ICD10_EMERGENCY), m)]
            p_cond = 0.5
        else:
            los = np.where(rng.random(m) < 0.7, 0, rng.exponential(3, m)).astype(int)
            method = _pick(ELECTIVE_METHODS, m, rng)
            generic = np.array(ICD10_ELECTIVE)[rng.integers(0, len(ICD10_ELECTIVE), m)]
            p_cond = 0.15
        cond = _condition_diagnosis(ctx.people, person, rng)
        diag = np.where((cond != "") & (rng.random(m) < p_cond), cond, generic)
        dis = adm + los
        # the patient died in hospital or is still in: no discharge after death
        dis = np.where(dis > ctx.ref[person], ctx.ref[person], dis)
        parts.append(pl.DataFrame({
            "person_idx": person, "day": adm.astype(np.int32),
            "admission_date": adm.astype(np.int32), "discharge_date": dis.astype(np.int32),
            "admission_method": method.astype(str), "primary_diagnosis_icd10": diag.astype(str),
            "provider_code": _provider(ctx.lad[person], rng).astype(str),
        }))
    apc = pl.concat(parts)
    # still in hospital at the end of the timeline: no discharge date yet
    apc = apc.with_columns(
        discharge_date=pl.when(pl.col("discharge_date") >= ctx.end_day).then(None)
        .otherwise(pl.col("discharge_date")),
        # the first version of a few spells has an unspecified diagnosis, fixed later
        wrong_primary_diagnosis_icd10=pl.when(
            pl.Series(rng.random(apc.height) < C.CORRECTION_SHARE)).then(pl.lit("R69X")),
    )
    return _with_ids(apc, "spell_id", "S", rng)


def make_ecds(ctx: ActivityContext, rng: np.random.Generator) -> pl.DataFrame:
    rr = interp_knots(ctx.age, ((0, 1.6), (5, 0.8), (16, 1.0), (25, 1.0), (45, 0.8),
                                (65, 0.9), (80, 1.6), (90, 2.2)))
    rr = rr * dep_factor(ctx.q, 1.7) * (1 + 0.15 * ctx.ncond) * \
        np.array([1.0, 1.3, 1.6, 2.0])[ctx.frailty]
    rate = _calibrated(rr, C.ED_ATTENDANCE_RATE, ctx.exposure)
    person, arr = poisson_dates(rate, ctx.start, ctx.ref, rng)
    m = person.size
    complaint = np.array(ECDS_COMPLAINTS)[rng.integers(0, len(ECDS_COMPLAINTS), m)]
    dest = _pick(ECDS_DESTINATIONS, m, rng)
    ecds = pl.DataFrame({
        "person_idx": person, "day": arr.astype(np.int32), "arrival_date": arr.astype(np.int32),
        "chief_complaint_snomed": complaint.astype(str),
        "discharge_destination_snomed": dest.astype(str),
        "provider_code": _provider(ctx.lad[person], rng).astype(str),
    }).with_columns(
        # first version sent before the destination was coded
        missing_first=pl.Series(rng.random(m) < C.CORRECTION_SHARE),
    )
    return _with_ids(ecds, "attendance_id", "A", rng)


def make_opa(ctx: ActivityContext, rng: np.random.Generator) -> pl.DataFrame:
    rr = interp_knots(ctx.age, ((0, 0.5), (18, 0.6), (40, 0.9), (60, 1.4), (75, 1.8),
                                (90, 1.2))) * (1 + 0.2 * ctx.ncond)
    rate = _calibrated(rr, C.OPA_RATE, ctx.exposure)
    person, when = poisson_dates(rate, ctx.start, ctx.ref, rng)
    m = person.size
    age = ctx.age[person]
    tfc = _pick(TFC_GENERAL, m, rng).astype(object)
    tfc[age < 16] = "420"
    for cond, code in TFC_BY_CONDITION.items():
        has = ctx.people[f"has_{cond}"].to_numpy()[person] & (rng.random(m) < 0.35)
        tfc[has] = code
    tfc[(ctx.frailty[person] >= 2) & (rng.random(m) < 0.3)] = "430"
    female = ctx.people["sex"].to_numpy()[person] == "F"
    tfc[(tfc == "502") & ~female] = "101"
    p_dna = C.OPA_DNA * dep_factor(ctx.q[person], 1.8) / 1.35 * \
        np.where(age < 30, 1.6, np.where(age > 70, 0.6, 1.0))
    u = rng.random(m)
    attended = np.where(u < p_dna, "DNA", np.where(u < p_dna + C.OPA_CANC, "CANC", "Y"))
    wrong_tfc = np.where(tfc == "300", "100", "300")
    wrong_tfc = np.where(rng.random(m) < C.CORRECTION_SHARE, wrong_tfc, None).tolist()
    opa = pl.DataFrame({
        "person_idx": person, "day": when.astype(np.int32),
        "appointment_date": when.astype(np.int32), "treatment_function_code": tfc.astype(str),
        "attended": attended, "provider_code": _provider(ctx.lad[person], rng).astype(str),
        "wrong_treatment_function_code": pl.Series(wrong_tfc, dtype=pl.String),
    })
    return _with_ids(opa, "appointment_id", "O", rng)


def make_tt_referrals(ctx: ActivityContext, rng: np.random.Generator) -> pl.DataFrame:
    """NHS Talking Therapies referrals for people with depression or anxiety (16+)."""
    dep = ctx.people["has_depression"].to_numpy()
    anx = ctx.people["has_anxiety"].to_numpy()
    rate = np.where((dep | anx) & (ctx.age >= 16), C.TT_REFERRAL_RATE, 0.0)
    rate = rate * np.where(ctx.age > 70, 0.4, 1.0)
    person, ref_day = poisson_dates(rate, ctx.start, ctx.ref, rng)
    m = person.size
    d, a = dep[person], anx[person]
    anx_prob = np.array(TT_PROBLEMS_ANX)[rng.integers(0, len(TT_PROBLEMS_ANX), m)]
    problem = np.where(d & a, np.where(rng.random(m) < 0.5, "mixed", "depression"),
                       np.where(d, np.where(rng.random(m) < 0.8, "depression", "mixed"),
                                anx_prob))
    source = _pick((("self", 0.6), ("gp", 0.3), ("other", 0.1)), m, rng)
    treated = rng.random(m) < 0.72
    first = ref_day + rng.integers(10, 120, m)
    discharge = np.where(treated, first + rng.integers(40, 220, m),
                         ref_day + rng.integers(30, 150, m))
    recovered = np.where(treated, np.where(rng.random(m) < 0.5, "Y", "N"), None)
    end = ctx.end_day
    tt = pl.DataFrame({
        "person_idx": person, "day": ref_day.astype(np.int32),
        "referral_date": ref_day.astype(np.int32),
        "referral_source": source,
        "presenting_problem": problem,
        "first_treatment_date": pl.Series(np.where(treated & (first <= end), first, -1),
                                          dtype=pl.Int32).replace(-1, None),
        "discharge_date": pl.Series(np.where(discharge <= end, discharge, -1),
                                    dtype=pl.Int32).replace(-1, None),
        "recovered": pl.Series(np.where(discharge <= end, recovered, None).tolist(),
                               dtype=pl.String),
    })
    return _with_ids(tt, "referral_id", "T", rng)


def make_community(ctx: ActivityContext, rng: np.random.Generator) -> pl.DataFrame:
    age = ctx.age
    rr = np.where(age >= 80, C.COMMUNITY_RATE["80"], np.where(age >= 65, C.COMMUNITY_RATE["65"],
                                                              C.COMMUNITY_RATE["base"]))
    rr = rr * np.where(ctx.frailty >= 2, C.COMMUNITY_RATE["frail"], 1.0) * (1 + 0.1 * ctx.ncond)
    person, when = poisson_dates(rr, ctx.start, ctx.ref, rng)
    m = person.size
    old = ctx.age[person] >= 65
    service = np.where(old, _pick(COMMUNITY_SERVICES_OLD, m, rng),
                       _pick(COMMUNITY_SERVICES_YOUNG, m, rng)).astype(object)
    diab = (ctx.people["has_diabetes_t2"].to_numpy() | ctx.people["has_diabetes_t1"]
            .to_numpy())[person]
    service[diab & (rng.random(m) < 0.3)] = "diabetes"
    wrong = np.where(rng.random(m) < C.CORRECTION_SHARE, "other", None).tolist()
    cc = pl.DataFrame({
        "person_idx": person, "day": when.astype(np.int32), "contact_date": when.astype(np.int32),
        "service": service.astype(str), "wrong_service": pl.Series(wrong, dtype=pl.String),
    })
    return _with_ids(cc, "contact_id", "C", rng)


def make_social_care(ctx: ActivityContext, duplicate_rate: float,
                     rng: np.random.Generator) -> pl.DataFrame:
    """Adult social care clients: the frail, people with dementia or learning disability."""
    p = ctx.people
    age = ctx.age
    fr = ctx.frailty
    ld = p["has_learning_disability"].to_numpy() & (age >= 18)
    dem = p["has_dementia"].to_numpy()
    s = C.SOCIAL_CARE
    prob = np.where(fr == 3, s["severe_frail"], np.where(fr == 2, s["moderate_frail"], 0.0))
    prob = np.maximum(prob, np.where(dem, s["dementia"], 0.0))
    prob = np.maximum(prob, np.where(ld, s["ld"], 0.0))
    prob = np.maximum(prob, np.where(age >= 65, s["other_65"], np.where(age >= 18, 0.003, 0)))
    client = rng.random(ctx.n) < prob
    dob = p["dob"].to_numpy()
    start = np.maximum(ctx.ref - rng.integers(0, int(5 * YEAR), ctx.n), dob + int(18 * YEAR))
    client &= start <= ctx.ref
    person = np.flatnonzero(client).astype(np.int32)
    m = person.size
    service = np.where(ld[person], _pick(SOCIAL_SERVICES_LD, m, rng),
                       _pick(SOCIAL_SERVICES_OLD, m, rng)).astype(object)
    service[p["carehome"].to_numpy()[person] & ~ld[person]] = "residential"
    st = start[person]
    ended = rng.random(m) < 0.3
    end = np.where(ended, st + rng.integers(30, 800, m), -1)
    dead_ref = ctx.ref[person] < ctx.end_day
    end = np.where(dead_ref & ((end < 0) | (end > ctx.ref[person])), ctx.ref[person], end)
    end = np.where(end > ctx.end_day, -1, end)
    sc = pl.DataFrame({
        "person_idx": person, "service_type": service.astype(str),
        "service_start": st.astype(np.int32),
        "service_end": pl.Series(end, dtype=pl.Int32).replace(-1, None),
        "is_duplicate": False,
    })
    dup = sc.filter(pl.Series(rng.random(m) < duplicate_rate)).with_columns(
        is_duplicate=pl.lit(True),
        service_start=pl.col("service_start") + 14,
    )
    sc = pl.concat([sc, dup]).with_columns(
        service_end=pl.when(pl.col("service_end") < pl.col("service_start"))
        .then(pl.col("service_start")).otherwise(pl.col("service_end")))
    return _with_ids(sc.with_columns(day=pl.col("service_start")), "client_id", "", rng,
                     digits=7)


def _with_ids(df: pl.DataFrame, id_col: str, prefix: str, rng: np.random.Generator,
              digits: int = 9) -> pl.DataFrame:
    """Stable record ids: order by day then person, then a shuffled numeric id."""
    df = df.with_columns(_r=pl.Series(rng.random(df.height))).sort(
        "day", "person_idx", "_r", maintain_order=True).drop("_r")
    ids = 10 ** (digits - 1) + rng.permutation(df.height)
    return df.with_columns(
        pl.col("person_idx").cast(pl.Int32),
        **{id_col: pl.lit(prefix) + pl.Series(ids).cast(pl.String)},
    )
