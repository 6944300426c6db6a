"""Tests of the synthetic ICS generator (small populations, generated once per module)."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from dagster_project.lib.nhs_number import valid_expr
from dagster_project.synthetic import GeneratorConfig, generate
from dagster_project.synthetic.geography import load_lsoas

REPO = Path(__file__).resolve().parents[2]
DATES = ["2026-09-01", "2026-10-01", "2026-11-01"]
PERSON_TABLES = {  # (source, table) -> record id column
    ("gp", "patients"): "patient_id", ("acute", "apc"): "spell_id",
    ("acute", "ecds"): "attendance_id", ("acute", "opa"): "appointment_id",
    ("talking_therapies", "referrals"): "referral_id", ("community", "contacts"): "contact_id",
    ("social_care", "clients"): "client_id",
}


def read(out: Path, source: str, table: str, date: str) -> pl.DataFrame:
    return pl.read_csv(out / "landing" / source / date / f"{table}.csv", infer_schema_length=0)


def read_all(out: Path, source: str, table: str) -> pl.DataFrame:
    return pl.concat([read(out, source, table, d).with_columns(extract=pl.lit(d))
                      for d in DATES], how="diagonal")


@pytest.fixture(scope="module")
def ics(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ics")
    generate(GeneratorConfig(persons=6000, seed=7, out=out))
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(GeneratorConfig(persons=1500, seed=3, messiness=0.0, out=out))
    return out


@pytest.fixture(scope="module")
def truth(ics: Path) -> pl.DataFrame:
    return pl.read_parquet(ics / "truth" / "person_records.parquet")


@pytest.fixture(scope="module")
def people(ics: Path) -> pl.DataFrame:
    return pl.read_parquet(ics / "truth" / "people.parquet")


def all_identity(out: Path) -> pl.DataFrame:
    """Latest version of every person-level record with its recorded NHS number."""
    frames = []
    for (source, table), id_col in PERSON_TABLES.items():
        df = read_all(out, source, table)
        keys = [id_col, "practice_code"] if source == "gp" else [id_col]
        df = df.sort("extract").unique(keys, keep="last", maintain_order=True)
        frames.append(df.select(
            pl.lit(source).alias("source"), pl.lit(table).alias("table"),
            pl.col(id_col).alias("record_id"),
            (pl.col("practice_code") if source == "gp" else pl.lit(None, pl.String))
            .alias("practice_code"),
            *[pl.col(c) if c in df.columns else pl.lit(None, pl.String).alias(c)
              for c in ("nhs_number", "given_name", "family_name", "date_of_birth", "sex")]))
    return pl.concat(frames)


# ---------------------------------------------------------------- structure and safety
def test_folders_are_monthly_extracts(ics: Path) -> None:
    for source in ("gp", "acute", "talking_therapies", "community", "social_care", "opt_out",
                   "reference", "outreach"):
        assert sorted(p.name for p in (ics / "landing" / source).iterdir()) == DATES
    assert read(ics, "outreach", "outcomes", DATES[0]).columns == [
        "project", "pseudo_id", "practice_code", "contact_date", "channel", "outcome"]


def test_nhs_numbers_are_999_and_valid_unless_marked_invalid(ics: Path,
                                                              truth: pl.DataFrame) -> None:
    ids = all_identity(ics).join(truth, on=["source", "table", "record_id", "practice_code"],
                                 how="left", nulls_equal=True)
    assert ids["nhs_number_status"].null_count() == 0
    present = ids.filter(pl.col("nhs_number").is_not_null())
    assert present["nhs_number"].str.contains(r"^999\d{7}$").all()
    checked = present.with_columns(valid=valid_expr("nhs_number"))
    assert (checked["valid"] == (checked["nhs_number_status"] != "invalid")).all()
    assert checked.filter(pl.col("nhs_number_status") == "wrong")["valid"].all()
    assert ids.filter(pl.col("nhs_number_status") == "missing")["nhs_number"].is_null().all()
    opt = read(ics, "opt_out", "national_data_opt_out", DATES[-1])
    assert opt.columns == ["nhs_number"]
    assert opt.select(valid_expr("nhs_number")).to_series().all()


def test_every_record_in_truth_exactly_once(ics: Path, truth: pl.DataFrame) -> None:
    keys = ["source", "table", "record_id", "practice_code"]
    assert truth.select(keys).is_duplicated().sum() == 0
    seen = all_identity(ics).select(keys)
    assert seen.is_duplicated().sum() == 0
    assert seen.height == truth.height
    assert seen.join(truth, on=keys, how="anti", nulls_equal=True).height == 0


def test_lsoas_are_norfolk_and_waveney(ics: Path, people: pl.DataFrame) -> None:
    nw = set(load_lsoas()["lsoa11cd"].to_list())
    assert len(nw) == 611
    pat = read(ics, "gp", "patients", DATES[-1])
    assert set(pat["lsoa11cd"].to_list()) <= nw
    assert set(people["lsoa11cd"].to_list()) <= nw


def test_postcodes_plausible_and_one_lsoa_each(ics: Path) -> None:
    pat = read(ics, "gp", "patients", DATES[-1])
    norm = pat["postcode"].str.to_uppercase().str.replace_all(" ", "")
    assert norm.str.contains(r"^(NR\d{1,2}|PE3[0-8]|IP(19|2[0-6]))\d[A-Z]{2}$").all()
    per = pat.with_columns(pc=norm).group_by("pc").agg(pl.col("lsoa11cd").n_unique())
    assert (per["lsoa11cd"] == 1).all()
    varied = (pat["postcode"] != pat["postcode"].str.to_uppercase()) | \
        ~pat["postcode"].str.contains(" ")
    assert 0.05 < varied.mean() < 0.15


def test_phones_and_emails_are_safe(ics: Path) -> None:
    pat = read(ics, "gp", "patients", DATES[-1])
    phones = pat["phone"].drop_nulls()
    safe = r"^(07700 900\d{3}|01632 960\d{3}|020 7946 0\d{3}|01\d{2} 49[68] 0\d{3})$"
    assert phones.str.contains(safe).all()
    assert pat["email"].drop_nulls().str.contains(r"@example\.(com|org|net)$").all()
    assert pat["phone"].null_count() > 0 and pat["email"].null_count() > 0


def test_practices_sensible(ics: Path) -> None:
    pr = read(ics, "reference", "practices", DATES[-1])
    assert 10 <= pr.height <= 105
    assert pr["practice_code"].str.contains(r"^[A-Z]\d{5}$").all()
    assert pr["pcn_code"].str.contains(r"^U\d{5}$").all()
    assert 0.6 < (pr["direct_care_approved"] == "Y").mean() < 0.95
    pat = read(ics, "gp", "patients", DATES[-1]).filter(pl.col("date_of_death").is_null())
    sizes = pat.group_by("practice_code").len()["len"]
    assert sizes.min() > 0.1 * sizes.mean() and sizes.max() < 6 * sizes.mean()
    assert pat.select("practice_code", "patient_id").is_duplicated().sum() == 0


# ---------------------------------------------------------------- determinism
def _hashes(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        generate(GeneratorConfig(persons=400, seed=seed, out=tmp_path / name))
        runs[name] = _hashes(tmp_path / name)
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


# ---------------------------------------------------------------- identities
def test_messiness_zero_gives_exact_identities(clean: Path) -> None:
    ids = all_identity(clean)
    t = pl.read_parquet(clean / "truth" / "person_records.parquet")
    ppl = pl.read_parquet(clean / "truth" / "people.parquet")
    keys = ["source", "table", "record_id", "practice_code"]
    j = ids.join(t, on=keys, nulls_equal=True).join(ppl, on="true_person_id", suffix="_true")
    assert (j["nhs_number"] == j["nhs_number_true"]).all()
    assert (j["date_of_birth"] == j["date_of_birth_true"].cast(pl.String)).all()
    assert (j["sex"] == j["sex_true"]).all()
    named = j.filter(pl.col("given_name").is_not_null())
    assert (named["given_name"] == named["given_name_true"]).all()
    assert (named["family_name"] == named["family_name_true"]).all()
    per = j.group_by("true_person_id").agg(pl.col("nhs_number").n_unique())
    assert (per["nhs_number"] == 1).all()
    assert not t["duplicate_registration"].any()
    flags = ["name_typo", "nickname", "surname_changed", "dob_swapped", "stale_postcode"]
    assert not t.select(pl.any_horizontal(flags)).to_series().any()
    pat = read(clean, "gp", "patients", DATES[-1])
    assert pat.filter(pl.col("date_of_death").is_null())["nhs_number"].null_count() == 0
    assert pat["postcode"].str.contains(r"^[A-Z0-9]+ [A-Z0-9]+$").all()


def test_messiness_one_error_rates(truth: pl.DataFrame) -> None:
    def share(src: str, expr: pl.Expr) -> float:
        return truth.filter(pl.col("source") == src).select(expr.mean()).item()

    status = pl.col("nhs_number_status")
    assert 0.15 < share("social_care", status == "missing") < 0.35
    assert 0.01 < share("acute", status == "missing") < 0.035
    assert share("gp", status == "missing") < 0.02
    assert 0.003 < share("acute", status == "invalid") < 0.008
    assert 0.003 < share("acute", status == "wrong") < 0.008
    assert 0.01 < share("community", pl.col("name_typo")) < 0.07
    assert 0.003 < share("gp", pl.col("surname_changed")) < 0.02
    assert 0.001 < share("acute", pl.col("dob_swapped")) < 0.006
    assert 0.005 < share("acute", pl.col("sex_unknown")) < 0.016
    assert 0.07 < share("acute", pl.col("postcode_format_varied")) < 0.13
    assert 0.005 < share("gp", pl.col("duplicate_registration")) < 0.02
    assert share("acute", pl.col("stale_postcode")) > 0.001
    assert share("community", pl.col("nickname")) > 0.003


def test_identity_errors_visible_in_extracts(ics: Path, truth: pl.DataFrame,
                                             people: pl.DataFrame) -> None:
    ids = all_identity(ics).join(truth, on=["source", "table", "record_id", "practice_code"],
                                 nulls_equal=True).join(people, on="true_person_id",
                                                        suffix="_true")
    typo = ids.filter(pl.col("name_typo") & ~pl.col("names_swapped"))
    assert ((typo["given_name"] != typo["given_name_true"])
            | (typo["family_name"] != typo["family_name_true"])).all()
    sw = ids.filter(pl.col("dob_swapped"))
    assert (sw["date_of_birth"] != sw["date_of_birth_true"].cast(pl.String)).all()
    ok = ids.filter((pl.col("nhs_number_status") == "ok") & pl.col("nhs_number").is_not_null())
    assert (ok["nhs_number"] == ok["nhs_number_true"]).all()
    wrong = ids.filter(pl.col("nhs_number_status") == "wrong")
    assert (wrong["nhs_number"] != wrong["nhs_number_true"]).all()


# ---------------------------------------------------------------- epidemiology
def test_prevalence_gradients(people: pl.DataFrame) -> None:
    by_q = people.group_by("imd_quintile").agg(
        pl.col("has_diabetes_t2").mean(), pl.col("has_copd").mean()).sort("imd_quintile")
    assert by_q["has_diabetes_t2"][0] > by_q["has_diabetes_t2"][4]
    assert by_q["has_copd"][0] > by_q["has_copd"][4]
    age = people.with_columns(
        age=(dt.date(2026, 11, 1) - pl.col("date_of_birth")).dt.total_days() / 365.25)
    bands = age.group_by((pl.col("age") // 20).clip(0, 4).alias("band")).agg(
        pl.col("has_hypertension").mean()).sort("band")["has_hypertension"].to_list()
    assert bands == sorted(bands)
    # crude prevalence among the living (QOF counts the living list; registers by QOF rule
    # are checked in test_synthetic_prevalence.py)
    living = people.filter(pl.col("date_of_death").is_null())
    assert 0.13 < living["has_hypertension"].mean() < 0.17
    assert 0.05 < living["has_diabetes_t2"].mean() < 0.075


def _events_with_people(ics: Path, truth: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    ev = read(ics, "gp", "events", DATES[-1])
    gp = truth.filter(pl.col("source") == "gp").select(
        pl.col("record_id").alias("patient_id"), "practice_code", "true_person_id")
    return ev.join(gp, on=["patient_id", "practice_code"]).join(people, on="true_person_id")


def test_flu_uptake_and_cervical_screening_gradients(ics: Path, truth: pl.DataFrame,
                                                     people: pl.DataFrame) -> None:
    codes = pl.read_csv(REPO / "dbt/seeds/codelists/codelist_codes.csv", infer_schema_length=0)
    flu = codes.filter(pl.col("cluster_id") == "FLUVAX_COD")["code"]
    local = pl.read_csv(REPO / "dbt/seeds/codelists/codelist_local_codes.csv", infer_schema_length=0)
    smear = local.filter(pl.col("cluster_id") == "CS_TEST_COD")["code"]  # adequate tests only
    ev = _events_with_people(ics, truth, people)
    alive = people.filter(pl.col("date_of_death").is_null()).with_columns(
        age=(dt.date(2026, 11, 1) - pl.col("date_of_birth")).dt.total_days() / 365.25)
    vacc = ev.filter(pl.col("snomed_code").is_in(flu.implode())
                     & pl.col("event_date").is_between(pl.lit("2025-09-01"), pl.lit("2026-03-31")))
    older = alive.filter(pl.col("age") >= 66).with_columns(
        vacc=pl.col("true_person_id").is_in(vacc["true_person_id"].implode()))
    q = older.group_by("imd_quintile").agg(pl.col("vacc").mean()).sort("imd_quintile")["vacc"]
    assert q[4] > q[0]
    assert 0.6 < older["vacc"].mean() < 0.9
    sm = ev.filter(pl.col("snomed_code").is_in(smear.implode())
                   & (pl.col("event_date") >= pl.lit("2021-05-01")))
    women = alive.filter(pl.col("has_cervix") & pl.col("age").is_between(26, 64)).with_columns(
        screened=pl.col("true_person_id").is_in(sm["true_person_id"].implode()))
    cov = women.group_by("imd_quintile").agg(pl.col("screened").mean()).sort("imd_quintile")
    assert cov["screened"][0] < cov["screened"][4]
    assert 0.55 < women["screened"].mean() < 0.85


def test_diabetes_hba1c_and_event_volume(ics: Path, truth: pl.DataFrame,
                                         people: pl.DataFrame) -> None:
    ev = _events_with_people(ics, truth, people)
    hba1c = ev.filter(pl.col("unit") == "mmol/mol").with_columns(
        pl.col("value").cast(pl.Float64))
    dm = hba1c.filter(pl.col("has_diabetes_t1") | pl.col("has_diabetes_t2"))
    assert dm["value"].min() >= 48
    ndh = hba1c.filter(pl.col("has_ndh"))
    assert ndh["value"].is_between(42, 47).all()
    per_person = ev.height / people.filter(pl.col("date_of_death").is_null()).height
    assert 12 < per_person < 28
    assert ev["snomed_code"].str.contains(r"^\d{6,18}$").all()


def test_emergency_admissions_rise_with_age(ics: Path, truth: pl.DataFrame,
                                            people: pl.DataFrame) -> None:
    apc = read_all(ics, "acute", "apc").unique("spell_id", keep="last")
    apc = apc.select("spell_id", "admission_method", "primary_diagnosis_icd10").join(
        truth.select(pl.col("record_id").alias("spell_id"), "true_person_id"),
        on="spell_id").join(people, on="true_person_id")
    em = apc.filter(pl.col("admission_method").str.starts_with("2"))
    assert apc["admission_method"].is_in(
        ["11", "12", "13", "21", "22", "23", "24", "25", "28", "2A", "2B", "2D"]).all()
    assert apc["primary_diagnosis_icd10"].str.contains(r"^[A-Z]\d{2}[0-9X]$").all()
    age = pl.col("date_of_birth").dt.year()
    rates = (people.group_by(age < 1960).len()
             .join(em.group_by(age < 1960).len(), on="date_of_birth", suffix="_em"))
    r = dict(zip(rates["date_of_birth"], rates["len_em"] / rates["len"]))
    assert r[True] > 2 * r[False]
    assert 0.05 < em.height / people.height / 3.4 < 0.2


# ---------------------------------------------------------------- increments and snapshots
def test_increments_do_not_repeat_unchanged_records(ics: Path) -> None:
    for (source, table), id_col in PERSON_TABLES.items():
        if source in ("gp", "social_care"):
            continue
        df = read_all(ics, source, table)
        firsts = df.filter(pl.col("extract") == DATES[0])
        later = df.filter(pl.col("extract") != DATES[0])
        assert firsts.height > later.height  # the first extract carries the history
        cols = [c for c in df.columns if c != "extract"]
        assert df.select(cols).is_duplicated().sum() == 0, f"{source}.{table}"
        resent = df.filter(pl.col(id_col).is_duplicated())
        if table in ("apc", "referrals"):
            assert resent.height > 0


def test_first_extract_has_three_years_of_activity(ics: Path) -> None:
    apc = read(ics, "acute", "apc", DATES[0])
    assert apc["admission_date"].min() <= "2023-09-01"


def test_later_snapshot_keeps_old_events(ics: Path) -> None:
    a = read(ics, "gp", "events", DATES[0]).select("event_id", "event_date", "snomed_code",
                                                   "patient_id")
    b = read(ics, "gp", "events", DATES[-1]).select("event_id", "event_date", "snomed_code",
                                                    "patient_id")
    assert b.height > a.height
    # every old event is still there with the same id, date and code
    assert a.join(b, on=["event_id", "event_date", "snomed_code"], how="anti").height == 0
    new = b.join(a, on="event_id", how="anti")
    # new events are dated after the first extract, or came with a newly registered patient
    old_patients = read(ics, "gp", "patients", DATES[0])["patient_id"].implode()
    backdated = new.filter(pl.col("event_date") <= DATES[0])
    assert not backdated["patient_id"].is_in(old_patients).any()


def test_gp_timeline_births_deaths_moves(ics: Path) -> None:
    a = read(ics, "gp", "patients", DATES[0])
    b = read(ics, "gp", "patients", DATES[-1])
    assert b.height > a.height  # births and new registrations
    new_deaths = b.filter(pl.col("date_of_death") > DATES[0])
    assert new_deaths.height > 0
    regs = read(ics, "gp", "registrations", DATES[-1])
    assert regs["registered_to"].null_count() < regs.height


# ---------------------------------------------------------------- CLI
def test_cli_end_to_end(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "dagster_project.synthetic", "--persons", "500", "--seed", "1",
         "--extracts", "2", "--end-date", "2026-11-01", "--messiness", "1.5",
         "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "gp/events" in res.stdout
    assert sorted(p.name for p in (tmp_path / "landing" / "gp").iterdir()) == [
        "2026-10-01", "2026-11-01"]
    assert (tmp_path / "truth" / "person_records.parquet").exists()
    # progress on stderr, one line per stage in a log (a bar on a terminal), in order
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("[")]
    assert [ln.split("] ")[1].split(" (at")[0] for ln in lines][-3:] == [
        "extract 2026-10-01", "extract 2026-11-01", "ground truth"]
    assert lines[0].startswith("[1/9] ") and lines[-1].startswith("[9/9] ")


def test_people_frame_survives_a_missing_first_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (issue 16): at 1.1M people some seeds made person 0 untraced (no NHS
    number) and polars, given a numpy object array starting with None, failed to cast it."""
    import numpy as np

    from dagster_project.synthetic import config as C
    from dagster_project.synthetic import people as P

    lsoas = load_lsoas()
    ethnicity = pl.read_csv(C.ETHNICITY_CSV, schema_overrides={"code": pl.String})
    monkeypatch.setattr(C, "ETHNICITY_NOT_RECORDED", 1.0)  # every code None
    first_untraced = np.full(50, None, dtype=object)
    first_untraced[10:] = np.array(["9990000018"] * 40).astype(str)
    monkeypatch.setattr(P, "assign_nhs_numbers", lambda n, rng: (first_untraced[:n], np.array([])))
    people, _ = P.make_people(lsoas, ethnicity, 50, 20_000, np.random.default_rng(3))
    assert people["nhs_number"].null_count() == 10
    assert people["ethnicity_code"].null_count() == 50


def test_benzodiazepine_issues_follow_the_phe_rate_and_use_the_sourced_products():
    """Falls-risk medication for the falls-prevention pilot: adults get benzodiazepines
    (BENZRX_COD products only) at the PHE 2019 yearly rate, people 65+ at the stated factor,
    children never; long-term users have repeats."""
    import numpy as np
    import polars as pl

    from dagster_project.synthetic import clinical as K
    from dagster_project.synthetic import config as CFG

    n = 60_000
    end_day = 20_000
    age = np.array([10] * (n // 3) + [40] * (n // 3) + [75] * (n // 3))
    dob = (end_day - age * 365.25).astype(np.int64)
    ref = np.full(n, end_day, dtype=np.int64)
    codes = K.load_codelists()
    meds = K._benzodiazepines(codes, dob, ref, end_day, np.random.default_rng(4))
    benz = set(codes.filter(pl.col("cluster_id") == "BENZRX_COD")["code"])
    assert set(meds["dmd_code"]) <= benz and len(benz) == 13
    last_year = meds.filter(pl.col("day") > end_day - 365)
    users = last_year["person_idx"].unique().to_numpy()
    share = [np.isin(np.arange(lo, lo + n // 3), users).mean() for lo in (0, n // 3, 2 * n // 3)]
    assert share[0] == 0
    # a yearly user has an issue in the last year unless a short course drew none (Poisson 1.5)
    short_seen = 1 - np.exp(-1.5)
    expected = CFG.BENZODIAZEPINE_YEAR * (CFG.BENZODIAZEPINE_LONG_TERM + (1 - CFG.BENZODIAZEPINE_LONG_TERM) * short_seen)
    assert abs(share[1] - expected) < 0.006
    assert abs(share[2] - CFG.BENZODIAZEPINE_OLDER_FACTOR * expected) < 0.008
    per_person = meds.group_by("person_idx").len()["len"]
    assert per_person.max() >= 12  # long-term monthly repeats
