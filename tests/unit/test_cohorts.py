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


def test_registry_names_the_projects_and_pilots_each_with_its_models_and_parameters():
    projects = load_projects()
    assert list(projects) == ["cervical_screening", "flu_vaccination", "covid_vaccination",
                              "talking_therapies", "dpp", "bp_checks", "falls_prevention", "depression_obesity"]
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
    assert set(a["outcome"]) <= set(outreach.RETURNED) and "booked" in set(a["outcome"])
    assert a["contact_date"].min() > "2026-10-01" and a["contact_date"].max() <= "2026-10-31"


# --------------------------------------------------------------------------- code lists and rules
CODELISTS = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "codelists"


def _all_codes() -> pl.DataFrame:
    cols = ["cluster_id", "code", "term"]
    return pl.concat([pl.read_csv(CODELISTS / "codelist_codes.csv", infer_schema_length=0).select(cols),
                      pl.read_csv(CODELISTS / "codelist_local_codes.csv", infer_schema_length=0).select(cols)])


def test_no_cluster_is_a_placeholder_and_every_local_concept_has_a_public_source():
    codes = _all_codes()
    assert codes.filter(~pl.col("code").str.contains(r"^[0-9]{6,18}$")).height == 0
    assert codes.filter(pl.col("term").str.to_lowercase().str.contains("placeholder")).height == 0
    local = pl.read_csv(CODELISTS / "codelist_local_codes.csv", infer_schema_length=0)
    assert local.filter(pl.col("source").is_null() | (pl.col("source").str.len_chars() < 20)).height == 0
    for cluster in ("CSPU_COD", "CSDEC_COD", "FLUDEC_COD", "GLUC_COD", "CS_TEST_COD", "CS_HPVNEG_COD",
                    "CERVIX_REMOVED_COD", "CERVIX_RETAINED_COD", "CERVIX_PRESENT_COD", "DPPINV_COD"):
        assert local.filter(pl.col("cluster_id") == cluster).height > 0, cluster


def test_cervical_stand_ins_are_split_by_meaning_with_a_reason_per_concept():
    codes = _all_codes()
    curation = pl.read_csv(CODELISTS / "codelist_curation.csv", infer_schema_length=0)
    for source in ("GMSDE_CERVICAL_SMEAR", "GMSDE_HYSTERECTOMY"):
        members = set(codes.filter(pl.col("cluster_id") == source)["code"])
        assert set(curation.filter(pl.col("source_cluster") == source)["code"]) == members, source
    assert curation["reason"].null_count() == 0
    local = pl.read_csv(CODELISTS / "codelist_local_codes.csv", infer_schema_length=0)

    def terms(cluster: str) -> list[str]:
        return [t.lower() for t in local.filter(pl.col("cluster_id") == cluster)["term"]]

    # status codes are not tests; procedures that leave the cervix do not remove it
    assert not any(w in t for t in terms("CS_TEST_COD")
                   for w in ("due", "overdue", "not attended", "declined", "inadequate", "technical failure"))
    removed = terms("CERVIX_REMOVED_COD")
    assert not any(w in t for t in removed for w in ("subtotal", "supracervical", "loop", "cone", "myomectomy"))
    retained = terms("CERVIX_RETAINED_COD")
    assert any("subtotal" in t for t in retained) and any("transformation zone" in t for t in retained)


def test_unit_test_people_carry_only_real_codes():
    """The dbt unit tests read the real code lists; every code their hand-made people carry
    is a real concept of those lists (no fake codes standing in for a real cluster)."""
    import re

    import yaml

    known = set(_all_codes()["code"])
    for path in (DBT_MODELS / "_cohorts__unit_tests.yml",):
        doc = yaml.safe_load(path.read_text())
        used = set()
        for test in doc["unit_tests"]:
            for given in test["given"]:
                if given.get("input") in ("ref('stg_gp__events')", "ref('stg_gp__medications')"):
                    for row in given.get("rows") or []:
                        used.add(str(row.get("snomed_code") or row.get("dmd_code")))
        assert used and all(re.fullmatch(r"[0-9]{6,18}", c) for c in used), used
        assert used <= known, used - known


def test_rule_registry_lists_every_project_rule_with_a_source_and_a_reason_when_off():
    registry = pl.read_csv(DBT_SEEDS / "project_rules.csv", infer_schema_length=0)
    assert set(registry["project"]) == set(load_projects()) | {"all_projects"}
    assert registry["source"].null_count() == 0
    off = registry.filter(pl.col("status") == "off")
    assert off.height > 0 and off["reason_off"].null_count() == 0
    assert registry.filter((pl.col("status") == "on") & pl.col("reason_off").is_not_null()).height == 0
    campaigns = pl.read_csv(DBT_SEEDS / "covid_campaigns.csv", infer_schema_length=0)
    assert set(campaigns["status"]) <= {"confirmed", "assumed"} and campaigns["source"].null_count() == 0
