"""generate(config): build a synthetic Norfolk and Waveney ICS and write its extracts.

Order: geography -> practices -> people -> conditions -> deaths -> moves ->
registrations -> GP events -> activity -> recorded identities -> extracts and truth.
One numpy Generator per step, spawned from the seed, so the output is a pure function
of the configuration.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.synthetic import activity as A
from dagster_project.synthetic import config as C
from dagster_project.synthetic import trajectories as T
from dagster_project.synthetic.clinical import (
    assign_conditions,
    calibrate_living_prevalence,
    load_codelists,
    make_events,
)
from dagster_project.synthetic.contact_needs import address_lines, with_contact_needs
from dagster_project.synthetic.extracts import (
    IDENTITY_ACUTE,
    IDENTITY_NAMED,
    TRUTH_FLAGS,
    IncrementSpec,
    as_dates,
    empty_outreach,
    increment_cut,
    write,
)
from dagster_project.synthetic.geography import load_lsoas, make_postcodes
from dagster_project.synthetic.identity import postcode_at, record_identity, scaled
from dagster_project.synthetic.people import day, make_people
from dagster_project.synthetic.practices import make_practices, practices_extract
from dagster_project.synthetic.timeline import assign_deaths, assign_moves, make_registrations


@dataclass
class GenerationSummary:
    out: Path
    extract_dates: list[dt.date]
    rows: dict[str, int] = field(default_factory=dict)  # "source/table" -> rows, all extracts
    persons: int = 0
    untraced: int = 0
    seconds: float = 0.0

    def table(self) -> str:
        lines = [f"{k:40s} {v:>12,d}" for k, v in sorted(self.rows.items())]
        return "\n".join(lines)


INCREMENTS = {
    "apc": IncrementSpec(
        "acute", "apc", "spell_id", IDENTITY_ACUTE,
        ["provider_code", "admission_date", "discharge_date", "admission_method",
         "primary_diagnosis_icd10"], ["admission_date", "discharge_date"],
        pending={"discharge_date": "discharge_date"},
        corrections=[("primary_diagnosis_icd10", pl.col("wrong_primary_diagnosis_icd10"),
                      "_corr")]),
    "ecds": IncrementSpec(
        "acute", "ecds", "attendance_id", IDENTITY_ACUTE,
        ["provider_code", "arrival_date", "chief_complaint_snomed",
         "discharge_destination_snomed"], ["arrival_date"],
        corrections=[("discharge_destination_snomed", pl.lit(None, pl.String), "_corr")]),
    "opa": IncrementSpec(
        "acute", "opa", "appointment_id", IDENTITY_ACUTE,
        ["provider_code", "appointment_date", "treatment_function_code", "attended"],
        ["appointment_date"],
        corrections=[("treatment_function_code", pl.col("wrong_treatment_function_code"),
                      "_corr")]),
    "referrals": IncrementSpec(
        "talking_therapies", "referrals", "referral_id", IDENTITY_NAMED,
        ["referral_date", "referral_source", "presenting_problem", "first_treatment_date",
         "discharge_date", "recovered"], ["referral_date", "first_treatment_date",
                                          "discharge_date"],
        pending={"first_treatment_date": "first_treatment_date",
                 "discharge_date": "discharge_date", "recovered": "discharge_date"}),
    "contacts": IncrementSpec(
        "community", "contacts", "contact_id", IDENTITY_NAMED, ["contact_date", "service"],
        ["contact_date"], corrections=[("service", pl.col("wrong_service"), "_corr")]),
}
CORRECTION_FLAG = {"apc": pl.col("wrong_primary_diagnosis_icd10").is_not_null(),
                   "ecds": pl.col("missing_first"),
                   "opa": pl.col("wrong_treatment_function_code").is_not_null(),
                   "contacts": pl.col("wrong_service").is_not_null(),
                   "referrals": pl.lit(False)}


BUILD_STAGES = ("geography and practices", "people and conditions", "deaths, moves, registrations",
                "GP events and medications", "hospital, therapy, community and social care activity",
                "recorded identities")


def stages(config: C.GeneratorConfig) -> list[str]:
    """The stages `generate` reports, in order: build the population, write each extract."""
    return [*BUILD_STAGES, *(f"extract {d.isoformat()}" for d in config.extract_dates()),
            "ground truth"]


def generate(config: C.GeneratorConfig,
             progress: Callable[[str], None] | None = None) -> GenerationSummary:
    """Generate the whole synthetic ICS described by config; see the package docstring.

    `progress`, if given, is called with the name of each stage (`stages(config)`) as it starts.
    """
    t0 = time.perf_counter()
    step = progress or (lambda name: None)
    step(BUILD_STAGES[0])
    out = Path(config.out)
    x = float(config.messiness)
    dates = config.extract_dates()
    days = [day(d) for d in dates]
    end_day = days[-1]
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(12)]

    lsoas = load_lsoas()
    postcodes = make_postcodes(lsoas, rngs[0])
    practices = make_practices(lsoas, postcodes, config.persons, rngs[1])
    ethnicity = pl.read_csv(C.ETHNICITY_CSV, infer_schema_length=0)
    step(BUILD_STAGES[1])
    people, spare = make_people(lsoas, ethnicity, config.persons, end_day, rngs[2])
    people = assign_conditions(people, rngs[3])
    step(BUILD_STAGES[2])
    people = assign_deaths(people, end_day, rngs[4])
    people = calibrate_living_prevalence(people, rngs[3])  # QOF counts the living
    people = T.assign_end_of_life(people, end_day, rngs[10])
    people = assign_moves(people, lsoas, postcodes, end_day, rngs[4])
    regs = make_registrations(people, practices, end_day,
                              scaled(C.MESSINESS["gp"].duplicate, x), rngs[4])
    step(BUILD_STAGES[3])
    codes = load_codelists()
    events, meds = make_events(people, codes, end_day, rngs[5])
    events = pl.concat([events, T.make_trajectory_events(people, codes, end_day, rngs[10])])
    events = with_contact_needs(events, people, end_day, rngs[9])
    events = events.sort("person_idx", "day", pl.col("snomed_code").cast(pl.String), "value",
                         maintain_order=True, nulls_last=True).with_row_index("event_id", offset=1)
    meds = meds.sort("person_idx", "day", "dmd_code", maintain_order=True).with_row_index(
        "issue_id", offset=1)

    step(BUILD_STAGES[4])
    ctx = A.ActivityContext(people, days[0] - int(3.25 * 365.25), end_day)
    activity = {
        "apc": A.make_apc(ctx, rngs[6]),
        "ecds": A.make_ecds(ctx, rngs[6]),
        "opa": A.make_opa(ctx, rngs[6]),
        "referrals": A.make_tt_referrals(ctx, rngs[6]),
        "contacts": A.make_community(ctx, rngs[6]),
    }
    social = A.make_social_care(ctx, scaled(C.MESSINESS["social_care"].duplicate, x), rngs[6])

    # Recorded identities, one per record
    step(BUILD_STAGES[5])
    id_rng = rngs[7]
    regs = record_identity(regs.with_columns(day=pl.lit(None, pl.Int32)), people, "gp", x,
                           spare, id_rng)
    for name, df in activity.items():
        spec = INCREMENTS[name]
        activity[name] = record_identity(df, people, spec.source, x, spare, id_rng).with_columns(
            _corr=CORRECTION_FLAG[name])
    social = record_identity(social, people, "social_care", x, spare, id_rng)
    ndoo = _opt_out(people, end_day, rngs[8])

    summary = GenerationSummary(out=out, extract_dates=dates, persons=config.persons,
                                untraced=int(people["nhs_number"].is_null().sum()))
    rows = summary.rows
    lsoa_codes = lsoas["lsoa11cd"]
    practice_lut = practices.select("practice_idx", "practice_code")
    person_cols = people.select("person_idx", "ethnicity_code", "phone", "email", "dod")
    for k, e in enumerate(days):
        ed = dates[k].isoformat()
        step(f"extract {ed}")

        def put(source: str, table: str, df: pl.DataFrame, ed: str = ed) -> None:
            key = f"{source}/{table}"
            rows[key] = rows.get(key, 0) + write(df, out, source, ed, table)

        # gp.patients and gp.registrations (snapshots)
        cur = regs.filter(pl.col("registered_from") <= e).join(
            practice_lut, on="practice_idx", how="left", maintain_order="left")
        pc_day = pl.min_horizontal(pl.lit(e), pl.col("registered_to").fill_null(e))
        pat = postcode_at(cur, people, postcodes, lsoa_codes, pc_day).join(
            person_cols, on="person_idx", how="left", maintain_order="left"
        ).with_columns(
            date_of_death=pl.when(pl.col("dod") <= e).then(pl.col("dod")),
        ).rename({"dob_rec": "date_of_birth", "sex_rec": "sex"})
        pat = as_dates(address_lines(pat), ["date_of_birth", "date_of_death"]).select(
            "patient_id", "practice_code", *IDENTITY_NAMED, "ethnicity_code", "lsoa11cd",
            "phone", "email", "date_of_death", "address_line").sort("practice_code", "patient_id")
        put("gp", "patients", pat)
        reg_out = as_dates(cur.with_columns(
            registered_to=pl.when(pl.col("registered_to") <= e).then(pl.col("registered_to"))
        ), ["registered_from", "registered_to"]).select(
            "patient_id", "practice_code", "registered_from", "registered_to"
        ).sort("practice_code", "patient_id")
        put("gp", "registrations", reg_out)

        # gp.events / medications: each person's history sits with their current record
        current = (cur.filter(~pl.col("is_duplicate"))
                   .sort("person_idx", "registered_from", "patient_id")
                   .group_by("person_idx", maintain_order=True).last()
                   .select("person_idx", "patient_id", "practice_code"))
        ev = events.filter(pl.col("day") <= e).join(
            current, on="person_idx", how="inner", maintain_order="left")
        ev = as_dates(ev.rename({"day": "event_date"}), ["event_date"]).select(
            "event_id", "patient_id", "practice_code", "event_date", "snomed_code", "value",
            "unit")
        put("gp", "events", ev)
        del ev
        md = meds.filter(pl.col("day") <= e).join(
            current, on="person_idx", how="inner", maintain_order="left")
        md = as_dates(md.rename({"day": "issue_date"}), ["issue_date"]).select(
            "issue_id", "patient_id", "practice_code", "issue_date", "dmd_code")
        put("gp", "medications", md)

        # increments
        for name, spec in INCREMENTS.items():
            df = activity[name]
            cut = increment_cut(
                postcode_at(df.filter(pl.col("day") <= e), people, postcodes, lsoa_codes,
                            pl.col("day")), k, days, spec)
            put(spec.source, spec.table, cut)

        # social care clients (snapshot)
        sc = social.filter(pl.col("service_start") <= e).with_columns(
            service_end=pl.when(pl.col("service_end") <= e).then(pl.col("service_end")))
        sc_day = pl.min_horizontal(pl.lit(e), pl.col("service_end").fill_null(e))
        sc = postcode_at(sc, people, postcodes, lsoa_codes, sc_day).rename(
            {"dob_rec": "date_of_birth", "sex_rec": "sex"})
        sc = as_dates(sc, ["date_of_birth", "service_start", "service_end"]).select(
            "client_id", *IDENTITY_NAMED, "service_type", "service_start", "service_end"
        ).sort("client_id")
        put("social_care", "clients", sc)

        put("opt_out", "national_data_opt_out",
            ndoo.filter(pl.col("day") <= e).select("nhs_number").sort("nhs_number"))
        put("reference", "practices", practices_extract(practices))
        put("outreach", "outcomes", empty_outreach())

    step("ground truth")
    _write_truth(out, people, lsoas, regs, practice_lut, activity, social, postcodes,
                 lsoa_codes, end_day)
    summary.seconds = time.perf_counter() - t0
    return summary


def _opt_out(people: pl.DataFrame, end_day: int, rng: np.random.Generator) -> pl.DataFrame:
    """National data opt-out: ~4% of people with an NHS number, a little more when older."""
    n = people.height
    age = people["age"].to_numpy()
    p = C.NDOO_RATE * np.where(age >= 65, 1.3, np.where(age < 18, 0.6, 1.0))
    p = p * C.NDOO_RATE / np.mean(p)
    chosen = (rng.random(n) < p) & people["nhs_number"].is_not_null().to_numpy()
    when = end_day - rng.integers(0, 6 * 365, n)
    return pl.DataFrame({"nhs_number": people["nhs_number"], "day": when}).filter(
        pl.Series(chosen))


def _write_truth(out: Path, people: pl.DataFrame, lsoas: pl.DataFrame, regs: pl.DataFrame,
                 practice_lut: pl.DataFrame, activity: dict[str, pl.DataFrame],
                 social: pl.DataFrame, postcodes: pl.DataFrame, lsoa_codes: pl.Series,
                 end_day: int) -> None:
    """truth/person_records.parquet and truth/people.parquet."""
    parts = []
    gp = postcode_at(regs, people, postcodes, lsoa_codes,
                     pl.min_horizontal(pl.lit(end_day), pl.col("registered_to").fill_null(end_day))
                     ).join(practice_lut, on="practice_idx", how="left", maintain_order="left")
    parts.append(gp.with_columns(source=pl.lit("gp"), table=pl.lit("patients"),
                                 record_id=pl.col("patient_id"),
                                 duplicate_registration=pl.col("is_duplicate")))
    for name, df in activity.items():
        spec = INCREMENTS[name]
        d = postcode_at(df, people, postcodes, lsoa_codes, pl.col("day"))
        parts.append(d.with_columns(source=pl.lit(spec.source), table=pl.lit(spec.table),
                                    record_id=pl.col(spec.id_col),
                                    practice_code=pl.lit(None, pl.String),
                                    duplicate_registration=pl.lit(False)))
    sc = postcode_at(social, people, postcodes, lsoa_codes, pl.min_horizontal(
        pl.lit(end_day), pl.col("service_end").fill_null(end_day)))
    parts.append(sc.with_columns(source=pl.lit("social_care"), table=pl.lit("clients"),
                                 record_id=pl.col("client_id"),
                                 practice_code=pl.lit(None, pl.String),
                                 duplicate_registration=pl.col("is_duplicate")))
    cols = ["source", "table", "record_id", "practice_code", "true_person_id", *TRUTH_FLAGS]
    truth = pl.concat([
        p.with_columns(true_person_id=pl.lit("P") + pl.col("person_idx").cast(pl.String))
        .select(cols) for p in parts
    ]).sort("source", "table", "record_id", "practice_code")
    (out / "truth").mkdir(parents=True, exist_ok=True)
    truth.write_parquet(out / "truth" / "person_records.parquet")

    lut = pl.DataFrame({"lsoa_idx": np.arange(lsoas.height, dtype=np.int32),
                        "lsoa11cd": lsoas["lsoa11cd"],
                        "imd_decile": lsoas["imd_decile"]})
    flags = [c for c in people.columns if c.startswith("has_") and c != "has_cervix"]
    ppl = people.join(lut, on="lsoa_idx", how="left", maintain_order="left").with_columns(
        true_person_id=pl.lit("P") + pl.col("person_idx").cast(pl.String),
        date_of_birth=pl.col("dob").cast(pl.Date),
        date_of_death=pl.col("dod").cast(pl.Date),
        moved_on=pl.col("move_day").cast(pl.Date),
        last_year_of_life_from=pl.col("eol_day").cast(pl.Date),
        palliative_care_from=pl.col("palliative_day").cast(pl.Date),
    ).select("true_person_id", "nhs_number", "given_name", "family_name", "date_of_birth",
             "sex", "date_of_death", "lsoa11cd", "imd_decile", "imd_quintile",
             "ethnicity_code", "ethnicity_group16", "moved_on", *flags, "n_conditions",
             "smoking", "frailty", "bmi_base", "carehome", "carer", "hysterectomy",
             "has_cervix", "type1_opt_out", "last_year_of_life_from", "palliative_care_from")
    ppl.write_parquet(out / "truth" / "people.parquet")
