"""Pure functions of the Protect NoW publication: registry, ranking, suppression, scans,
report, outreach simulation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dagster_project.cohorts import publish, report
from dagster_project.cohorts.registry import DBT_SEEDS, RegistryError, SortKey, load_projects
from dagster_project.synthetic import outreach

DBT_MODELS = Path(__file__).resolve().parents[2] / "dbt" / "models" / "marts" / "cohorts"


def test_registry_names_five_projects_each_with_its_models_and_parameters():
    projects = load_projects()
    assert list(projects) == ["cervical_screening", "flu_vaccination", "covid_vaccination",
                              "talking_therapies", "dpp"]
    params = pl.read_csv(DBT_SEEDS / "project_parameters.csv")
    for p in projects.values():
        assert (DBT_MODELS / f"{p.model}.sql").exists(), p.model
        assert (DBT_MODELS / f"{p.evidence_model}.sql").exists(), p.evidence_model
        assert params.filter(pl.col("project") == p.id).height > 0, p.id
        assert p.suppress_below == 8 and p.channels and p.stratify_by and p.priority


def test_registry_errors_name_the_project_and_field(tmp_path):
    bad = tmp_path / "projects.yaml"
    bad.write_text("projects:\n  - {id: falls, title: Falls, model: cohort_falls, evidence_model: e,"
                   " stratify_by: [shoe_size]}\n")
    with pytest.raises(RegistryError, match="falls.*stratify_by"):
        load_projects(bad)
    bad.write_text("projects:\n  - {id: falls, title: Falls, model: 'x; drop table', evidence_model: e}\n")
    with pytest.raises(RegistryError, match="model"):
        load_projects(bad)


def cohort_frame() -> pl.DataFrame:
    return pl.DataFrame({
        "pseudo_id": ["a", "b", "c", "d", "e"],
        "practice_code": ["P00001", "P00001", "P00001", "P00002", "P00002"],
        "eligibility_group": ["g"] * 5,
        "clinical_priority": [1.0, 3.0, 3.0, 1.0, 2.0],
        "is_core20": [True, False, True, False, False],
        "imd_quintile": [1, 4, 1, 5, 3],
        "risk_tier": ["low", "high", "low", "low", "moderate"],
        "risk_probability": [0.05, 0.3, 0.05, 0.02, 0.12],
        "ethnicity_group": ["White"] * 5, "age_band": ["45-54"] * 5, "age": [50] * 5,
        "pcn_code": ["U1"] * 5, "segment": ["healthy_well"] * 5,
        "reasons": ["r"] * 5, "reason_ids": ["r"] * 5, "reference_date": [dt.date(2026, 11, 1)] * 5,
    })


def test_rank_within_practice_follows_the_registry_keys_and_is_reproducible():
    project = load_projects()["flu_vaccination"]  # clinical priority, then Core20, then risk
    ranked = publish.stratify_and_rank(cohort_frame(), project)
    order = ranked.select("practice_code", "priority_rank", "pseudo_id").rows()
    assert order == [("P00001", 1, "c"), ("P00001", 2, "b"), ("P00001", 3, "a"),
                     ("P00002", 1, "e"), ("P00002", 2, "d")]
    assert ranked.filter(pl.col("pseudo_id") == "c")["stratum"][0] == "risk low x IMD 1"
    again = publish.stratify_and_rank(cohort_frame().reverse(), project)
    assert again.select("pseudo_id", "priority_rank").equals(ranked.select("pseudo_id", "priority_rank"))
    core20_first = project.__class__(**{**project.__dict__, "priority": (SortKey("is_core20", True),)})
    assert publish.stratify_and_rank(cohort_frame(), core20_first)["pseudo_id"][0] in {"a", "c"}


def test_summary_suppresses_counts_one_to_seven():
    project = load_projects()["dpp"]
    ranked = publish.stratify_and_rank(cohort_frame(), project)
    population = pl.DataFrame({
        "pseudo_id": [str(i) for i in range(120)], "practice_code": ["P00001"] * 100 + ["P00002"] * 20,
        "pcn_code": ["U1"] * 120, "imd_quintile": [1] * 60 + [4] * 60, "is_core20": [True] * 60 + [False] * 60,
        "ethnicity_group": ["White"] * 120, "age_band": ["45-54"] * 120})
    summary = publish.summarise(ranked, population, 8)
    overall = summary.filter(pl.col("dimension") == "overall").row(0, named=True)
    assert overall["cohort"] == "suppressed" and overall["cohort_per_1000"] == "suppressed"
    assert overall["population"] == "120"
    numbers = summary["cohort"].cast(pl.Int64, strict=False)
    assert not numbers.is_between(1, 7).any()
    assert set(summary["dimension"]) == set(publish.SUMMARY_DIMENSIONS)


def test_identifier_scan_finds_identifiers_not_pseudo_ids():
    clean = pl.DataFrame({"pseudo_id": ["4011111111abcdef0123456789abcdef", "07700900123fedcba"],
                          "reasons": ["Aged 65 or over by 2027-03-31", "HbA1c 44 mmol/mol"]})
    assert publish.identifier_problems(clean, "x") == []
    dirty = pl.DataFrame({"note": ["call 07700 900123", "NR1 2AB", "a@b.nhs.uk", "9434765919"]})
    problems = " ".join(publish.identifier_problems(dirty, "x"))
    for kind in ("phone-like", "postcode-like", "e-mail-like", "NHS-number-like"):
        assert kind in problems
    assert publish.identifier_problems(pl.DataFrame({"phone": ["x"]}), "x")


def test_report_is_offline_svg_and_marks_suppressed_values(tmp_path):
    summary = pl.DataFrame({"dimension": ["overall", "imd_quintile", "imd_quintile"],
                            "group": ["all", "IMD 1", "IMD 2"], "cohort": ["40", "suppressed", "35"],
                            "population": ["900", "100", "800"], "cohort_per_1000": ["44.4", "suppressed", "43.8"]})
    path = report.write_report(tmp_path / "r.html", load_projects()["dpp"], "2026-11-01", summary,
                               [("2026-10-01", summary)], ["P00001"])
    text = path.read_text()
    assert text.count("<svg") >= 3 and "suppressed" in text
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text
    assert "<script" not in text


def test_outreach_simulation_is_seeded_and_accepts_less_in_deprived_areas():
    p = outreach.outcome_probabilities(np.array([1.0, 5.0]))
    assert np.allclose(p.sum(axis=1), 1) and p[0, 0] < p[1, 0]
    cohort = pl.DataFrame({"project": ["flu_vaccination"] * 400, "pseudo_id": [f"{i:032x}" for i in range(400)],
                           "practice_code": ["P00001"] * 400, "priority_rank": list(range(1, 401))})
    imd = pl.DataFrame({"pseudo_id": cohort["pseudo_id"], "imd_quintile": [1, 5] * 200})
    a = outreach.simulate(cohort, imd, dt.date(2026, 10, 1), dt.date(2026, 10, 31), ["phone"], 0.5, seed=3)
    b = outreach.simulate(cohort, imd, dt.date(2026, 10, 1), dt.date(2026, 10, 31), ["phone"], 0.5, seed=3)
    assert a.equals(b) and a.height == 200
    assert set(a["outcome"]) <= set(outreach.OUTCOMES)
    assert a["contact_date"].min() > "2026-10-01" and a["contact_date"].max() <= "2026-10-31"
