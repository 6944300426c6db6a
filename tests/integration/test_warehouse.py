"""The dbt warehouse end to end on a small synthetic ICS, built through its Dagster asset.

Generate ~3,000 people, ingest every extract into the raw zone, write the stand-in identity
zone (tests/dbt/identity_standin.py, from the synthetic truth), materialise the warehouse
(`dbt build`: seeds, models, unit tests and data tests as asset checks; docs), then check
real outcomes against the truth.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dagster_project.lib.identifiers import IDENTIFIER_COLUMN
from dagster_project.lib.nhs_number import is_valid
from dagster_project.lib.zones import Zones
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry
from tests.dbt.identity_standin import ingest_everything, pseudo_id_expr, write_standin_identity

PERSONS = 3000
REFERENCE = dt.date(2026, 11, 1)
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", re.IGNORECASE)
TEN_DIGITS = re.compile(r"^[0-9]{10}$")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Zones:
    from dagster_project.synthetic import GeneratorConfig, generate
    from dagster_project.warehouse.build import materialise_warehouse

    data_dir = tmp_path_factory.mktemp("warehouse") / "data"
    generate(GeneratorConfig(persons=PERSONS, seed=5, out=data_dir, end_date=REFERENCE))
    zones = Zones.at(data_dir)
    ingest_everything(zones)
    write_standin_identity(zones)
    mp = pytest.MonkeyPatch()
    mp.setenv("PHM_DATA_DIR", str(data_dir))
    try:
        result = materialise_warehouse(zones)
    finally:
        mp.undo()
    assert result.success, "dbt build failed: see the captured Dagster log"
    checks = result.get_asset_check_evaluations()
    failed = [c.check_name for c in checks if not c.passed]
    assert checks and not failed, f"failing dbt tests: {failed}"
    return zones


def query(zones: Zones, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(zones.warehouse_db), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def living_truth(zones: Zones, on: dt.date = REFERENCE) -> pl.DataFrame:
    people = pl.read_parquet(zones.truth / "people.parquet")
    return people.filter(pl.col("date_of_death").is_null() | (pl.col("date_of_death") > on))


def national_opt_out(zones: Zones, people: pl.DataFrame) -> pl.Series:
    opted = raw_zone.scan_published(zones.raw, load_registry()["opt_out__national_data_opt_out"])
    return people["nhs_number"].is_in(opted.collect()["nhs_number"].implode())


@pytest.mark.slow
def test_dim_person_is_the_living_registered_population(warehouse: Zones):
    dim = query(warehouse, "select * from marts.dim_person")
    living = living_truth(warehouse).with_columns(pseudo_id=pseudo_id_expr())
    opted_out = national_opt_out(warehouse, living)
    # national data opt-out policy 'exclude' (dbt var): a person is left out when ANY of
    # their linked records carries an opted-out NHS number - so also someone whose record
    # carries another person's opted-out number (a wrong-but-valid number): safe side
    excluded = set(query(warehouse, "select pseudo_id from staging.stg_identity__opt_outs")
                   ["pseudo_id"])
    opted_ids = set(living.filter(opted_out)["pseudo_id"])
    assert opted_ids <= excluded, "an opted-out person is in the marts"
    wrong_number = excluded - opted_ids
    assert len(wrong_number & set(living["pseudo_id"])) <= 0.01 * living.height
    expected = set(living["pseudo_id"]) - excluded
    assert set(dim["pseudo_id"]) == expected
    assert 0.02 < opted_out.mean() < 0.07
    assert dim["pseudo_id"].is_unique().all()
    assert dim["reference_date"].unique().to_list() == [REFERENCE]
    assert dim["pcn_code"].null_count() == 0 and dim["age_band"].null_count() == 0
    # IMD of Norfolk and Waveney LSOAs: every decile occurs, Core20 = deciles 1-2
    assert dim.filter(pl.col("is_core20") != (pl.col("imd_decile") <= 2)).height == 0
    assert not dim["has_national_data_opt_out"].any()


@pytest.mark.slow
def test_opted_out_people_are_in_no_indirect_care_mart(warehouse: Zones):
    """National data opt-out policy 'exclude' (dbt var national_data_opt_out_policy)."""
    opted = query(warehouse, "select pseudo_id from staging.stg_identity__opt_outs")["pseudo_id"]
    assert opted.len() > 0
    for mart in ("dim_person", "mart_risk", "mart_segmentation"):
        ids = query(warehouse, f"select pseudo_id from marts.{mart}")["pseudo_id"]
        assert ids.len() > 0 and not ids.is_in(opted.implode()).any(), mart


@pytest.mark.slow
def test_each_person_in_exactly_one_segment(warehouse: Zones):
    seg = query(warehouse, "select * from marts.mart_segmentation")
    dim = query(warehouse, "select pseudo_id from marts.dim_person")
    assert seg.height == dim.height
    assert seg["pseudo_id"].is_unique().all()
    assert set(seg["pseudo_id"]) == set(dim["pseudo_id"])
    sizes = dict(seg.group_by("segment_code").len().iter_rows())
    assert sizes["healthy_well"] > sizes["chronic_conditions"] > sizes["frailty_dementia"]


@pytest.mark.slow
def test_diabetes_prevalence_matches_truth(warehouse: Zones):
    truth = living_truth(warehouse).with_columns(
        age=((pl.lit(REFERENCE) - pl.col("date_of_birth")).dt.total_days() / 365.25))
    adults = truth.filter(pl.col("age") >= 17)
    true_cases = adults.filter(pl.col("has_diabetes_t1") | pl.col("has_diabetes_t2")).height
    flags = query(warehouse, "select has_diabetes from marts.mart_condition_flags")
    found = int(flags["has_diabetes"].sum())
    # resolved diabetes codes (DMRES_COD) take about 1% off the register
    assert abs(found - true_cases) <= max(5, 0.05 * true_cases), (found, true_cases)
    for condition in ("hypertension", "copd", "heart_failure"):
        truth_n = int(truth[f"has_{condition}"].sum())
        got = int(query(warehouse, f"select sum(has_{condition}::int) as n from marts.mart_condition_flags")["n"][0])
        assert abs(got - truth_n) <= max(5, 0.1 * truth_n), (condition, got, truth_n)


@pytest.mark.slow
def test_risk_is_calibrated_and_tiered(warehouse: Zones):
    cal = query(warehouse, "select * from marts.mart_risk_calibration order by risk_decile")
    assert cal.height == 10
    observed, predicted = cal["observed_admissions"].sum(), cal["predicted_admissions"].sum()
    assert 0.75 < observed / predicted < 1.33
    top = cal.filter(pl.col("risk_decile") == 10)
    assert top["observed_admissions"][0] > 3 * cal.filter(pl.col("risk_decile") == 1)["observed_admissions"][0]
    risk = query(warehouse, "select risk_tier, frailty_band, age from marts.mart_risk")
    assert set(risk["risk_tier"]) <= {"very high", "high", "moderate", "low"}
    assert risk.filter((pl.col("age") < 65) & pl.col("frailty_band").is_not_null()).height == 0


@pytest.mark.slow
def test_risk_is_validated_out_of_time_against_age_and_sex(warehouse: Zones):
    """mart_risk_validation: the time split is a year after the development window, and its
    AUC, O/E and comparator agree with an independent computation from the window rows."""
    import numpy as np

    from dagster_project.warehouse.calibration import age_sex_expected, auc, evaluate, refit

    v = {r["evaluation"]: r for r in query(warehouse, "select * from marts.mart_risk_validation").iter_rows(named=True)}
    assert set(v) == {"development", "time_split"}
    split = v["time_split"]
    assert split["features_as_of"].date() == dt.date(REFERENCE.year - 1, REFERENCE.month, REFERENCE.day)
    assert v["development"]["features_as_of"].date() == dt.date(REFERENCE.year - 2, REFERENCE.month, REFERENCE.day)
    assert split["events"] > 30 and split["auc_ci_lower"] < split["auc"] < split["auc_ci_upper"]
    window = query(warehouse, "select * from intermediate.int_risk_backtest")
    development = query(warehouse, "select * from intermediate.int_risk_development")
    events = window["observed_emergency_admissions_12m"].to_numpy() > 0
    assert split["auc"] == pytest.approx(auc(events, window["risk_probability"].to_numpy()), abs=1e-4)
    comparator = evaluate(window, age_sex_expected(development, window))
    assert split["auc_age_only"] == pytest.approx(comparator["auc"], abs=1e-4)
    assert split["observed_expected_age_only"] == pytest.approx(comparator["observed_expected"], abs=1e-3)
    observed = window["observed_emergency_admissions_12m"].sum()
    assert split["observed_expected"] == pytest.approx(
        observed / window["expected_emergency_admissions_12m"].sum(), abs=1e-3)
    assert 0.6 < split["observed_expected"] < 1.5
    # discriminates well above chance out of time (whether it beats age and sex is reported)
    assert split["auc"] > 0.7 and split["beats_age_only"] == (split["auc"] > split["auc_age_only"])
    # the documented refit runs on this warehouse and evaluates itself on the same split
    coefficients, report = refit(warehouse.warehouse / "warehouse.duckdb")
    assert report["time_split"]["seed_in_use"]["auc"] == pytest.approx(split["auc"], abs=1e-4)
    assert coefficients.filter(pl.col("term") == "prior_emergency_admissions")["coefficient"][0] > 0
    assert np.isfinite(coefficients["coefficient"].to_numpy()).all()


@pytest.mark.slow
def test_refit_asset_writes_coefficients_and_time_split_report(warehouse: Zones):
    import json

    import dagster as dg

    from dagster_project.resources import PlatformResource
    from dagster_project.warehouse.calibration import risk_coefficients_refit

    result = dg.materialize([risk_coefficients_refit], resources={
        "platform": PlatformResource(data_dir=str(warehouse.data_dir), landing_dir=str(warehouse.landing))})
    assert result.success
    coefficients = pl.read_csv(warehouse.warehouse / "risk_coefficients_refit.csv",
                               schema_overrides={"level": pl.String})
    seed = pl.read_csv(Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "parameters" / "risk_coefficients.csv",
                       schema_overrides={"level": pl.String})
    assert coefficients.select("term", "level").sort("term", "level").equals(seed.select("term", "level").sort("term", "level"))
    report = json.loads((warehouse.warehouse / "risk_coefficients_refit.json").read_text())
    assert set(report["time_split"]) == {"refit", "seed_in_use", "age_sex_only"}
    assert report["evaluation_as_of"] == dt.date(REFERENCE.year - 1, REFERENCE.month, REFERENCE.day).isoformat()
    metadata = result.asset_materializations_for_node("warehouse__risk_coefficients_refit")[0].metadata
    assert metadata["time_split_auc_seed"].value == report["time_split"]["seed_in_use"]["auc"]


@pytest.mark.slow
def test_risk_frailty_is_calibrated_within_period(warehouse: Zones):
    """Frailty coding matures, so the model's frailty band is a within-period rank: in both
    windows the shares of the 65+ in moderate/severe stay near the eFI's 15%."""
    for model in ("int_risk_development", "int_risk_backtest"):
        bands = query(warehouse, f"select risk_frailty_band as band, count(*) as n from intermediate.{model} "
                                 "where risk_frailty_band != 'not_assessed' group by 1")
        shares = dict(zip(bands["band"], bands["n"] / bands["n"].sum()))
        assert 0.05 < shares.get("moderate", 0) + shares.get("severe", 0) <= 0.16, (model, shares)


PROGRAMMES = ("flu_uptake_65_plus", "flu_uptake_under_65_at_risk", "covid_uptake_75_plus",
              "cervical_screening_coverage", "ndpp_referral", "talking_therapies_access")


@pytest.mark.slow
def test_inequalities_are_age_standardised_over_eligible_populations(warehouse: Zones):
    import numpy as np

    ineq = query(warehouse, "select * from marts.mart_inequalities")
    overall = {r["measure"]: r for r in ineq.filter(pl.col("dimension") == "all").iter_rows(named=True)}
    for measure in (*PROGRAMMES, "prevalence_diabetes"):
        assert 0 < overall[measure]["numerator"] < overall[measure]["denominator"], measure
        dims = set(ineq.filter(pl.col("measure") == measure)["dimension"])
        assert {"imd_quintile", "imd_decile", "ethnicity_group", "age_band", "sex", "pcn"} <= dims
    # denominators are the eligible populations, not everyone
    dim = query(warehouse, "select * from marts.dim_person")
    women = dim.filter((pl.col("sex") == "F") & pl.col("age").is_between(25, 64)).height
    assert 0.8 * women < overall["cervical_screening_coverage"]["denominator"] <= women
    assert overall["prevalence_diabetes"]["denominator"] == dim.height
    older = dim.filter(pl.col("age") >= 64).height
    assert 0.9 * older < overall["flu_uptake_65_plus"]["denominator"] <= older
    # confidence intervals hold their estimates
    std = ineq.filter(pl.col("age_standardised_rate").is_not_null())
    assert std.height > 0.5 * ineq.height
    assert (std["ci_lower"] <= std["age_standardised_rate"]).all() and (std["age_standardised_rate"] <= std["ci_upper"]).all()
    assert (ineq["crude_ci_lower"] <= ineq["crude_rate"]).all() and (ineq["crude_rate"] <= ineq["crude_ci_upper"]).all()
    # one directly standardised rate recomputed from the rows it is made of
    people = query(warehouse, f"""
        select u.in_numerator, p.imd_quintile, e.standardisation_band as band, e.weight
        from intermediate.int_programme_uptake u join marts.dim_person p using (pseudo_id)
        join (select min_age, max_age, standardisation_band,
                     cast(sum(esp_weight) over (partition by standardisation_band) as double) as weight
              from {seed_schema(warehouse)}.european_standard_population_2013) e on p.age between e.min_age and e.max_age
        where u.measure = 'cervical_screening_coverage'""")
    weights = people.select("band", "weight").unique()
    weights = weights.with_columns(w=pl.col("weight") / pl.col("weight").sum())
    q1 = people.filter(pl.col("imd_quintile") == 1).group_by("band").agg(p=pl.col("in_numerator").mean())
    expected = q1.join(weights, on="band")
    dsr = float((expected["p"] * expected["w"]).sum())
    got = ineq.filter((pl.col("measure") == "cervical_screening_coverage") & (pl.col("dimension") == "imd_quintile")
                      & (pl.col("group") == "1"))["age_standardised_rate"][0]
    assert got == pytest.approx(dsr, abs=1e-4)
    # the gradient across IMD deciles: SII recomputed by weighted least squares
    grad = {r["measure"]: r for r in query(warehouse, "select * from marts.mart_inequalities_gradient").iter_rows(named=True)}
    # (a measure whose deciles do not all have a standardised rate has no gradient row; in a
    # 3,000-person ICS that can happen to any one measure, not to all of these)
    checked = [m for m in ("flu_uptake_65_plus", "cervical_screening_coverage", "prevalence_hypertension",
                           "prevalence_diabetes") if m in grad]
    assert len(checked) >= 2, sorted(grad)
    for measure in checked:
        deciles = ineq.filter((pl.col("measure") == measure) & (pl.col("dimension") == "imd_decile")
                              & (pl.col("group") != "unknown")).with_columns(
            d=pl.col("group").cast(pl.Int32)).sort("d")
        n = deciles["denominator"].to_numpy().astype(float)
        x = (np.cumsum(n) - n / 2) / n.sum()
        y = deciles["age_standardised_rate"].to_numpy()
        slope = np.sum(n * (x - np.average(x, weights=n)) * (y - np.average(y, weights=n))) / np.sum(
            n * (x - np.average(x, weights=n)) ** 2)
        row = grad[measure]
        assert row["sii"] == pytest.approx(slope, abs=1e-4)
        assert row["sii_ci_lower"] < row["sii"] < row["sii_ci_upper"]
        assert row["rii"] == pytest.approx(row["sii"] / row["mean_rate"], rel=1e-2)


def seed_schema(zones: Zones) -> str:
    found = query(zones, "select table_schema from information_schema.tables "
                         "where table_name = 'european_standard_population_2013'")
    return found["table_schema"][0]


@pytest.mark.slow
def test_no_direct_identifiers_anywhere_in_the_warehouse(warehouse: Zones):
    """Every table: no identifier-like column names, no NHS numbers, postcodes or names."""
    truth = pl.read_parquet(warehouse.truth / "people.parquet")
    nhs_numbers = set(truth["nhs_number"].drop_nulls())
    names = set(truth["family_name"].drop_nulls()) | set(truth["given_name"].drop_nulls())
    con = duckdb.connect(str(warehouse.warehouse / "warehouse.duckdb"), read_only=True)
    try:
        columns = con.sql(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "where table_schema in ('staging', 'intermediate', 'marts')").fetchall()
        assert columns
        for schema, table, column, dtype in columns:
            assert not IDENTIFIER_COLUMN.search(column.lower()), f"{schema}.{table}.{column}"
            if dtype != "VARCHAR":
                continue
            values = [v for (v,) in con.sql(
                f'select distinct "{column}" from {schema}.{table} where "{column}" is not null').fetchall()]
            where = f"{schema}.{table}.{column}"
            assert not nhs_numbers.intersection(values), f"NHS numbers in {where}"
            assert not any(TEN_DIGITS.match(v) and is_valid(v) and v.startswith("999")
                           for v in values), f"NHS-number-like values in {where}"
            assert not any(POSTCODE.match(v) for v in values), f"postcodes in {where}"
            # a column of names would hold hundreds; a few category words (White, Young) are not names
            assert len(names.intersection(values)) <= 3, f"person names in {where}"
    finally:
        con.close()


@pytest.mark.slow
def test_docs_are_generated(warehouse: Zones):
    index = warehouse.warehouse / "docs" / "index.html"
    assert index.exists() and (warehouse.warehouse / "docs" / "catalog.json").exists()


@pytest.mark.slow
def test_a_backfill_builds_its_own_date_and_leaves_the_newest_untouched(warehouse: Zones, monkeypatch):
    """A backfill of the previous month reads only what was published by then, into its own
    file, recording its inputs; the newest month's warehouse is not touched. (The byte-for-
    byte rebuild of a past release: tests/integration/test_rebuild.py.)"""
    import json

    from dagster_project.lib.files import sha256_file
    from dagster_project.warehouse.build import make_current, materialise_warehouse

    past = dt.date(2026, 10, 1)
    monkeypatch.setenv("PHM_DATA_DIR", str(warehouse.data_dir))
    newest = warehouse.warehouse_db
    assert newest == warehouse.warehouse_at(REFERENCE.isoformat())
    newest_bytes = sha256_file(newest)
    now = query(warehouse, "select pseudo_id from marts.dim_person")
    assert materialise_warehouse(warehouse, reference_date=past.isoformat()).success
    assert warehouse.warehouse_db == warehouse.warehouse_at(past.isoformat())  # readers follow the backfill
    then = query(warehouse, "select pseudo_id, reference_date from marts.dim_person")
    assert then["reference_date"].unique().to_list() == [past]
    living_then = living_truth(warehouse, past)
    living_then = living_then.filter(~national_opt_out(warehouse, living_then)).height  # policy exclude
    # people alive then who registered for the first time in October are not yet in
    assert 0 <= living_then - then.height <= 0.02 * living_then
    assert set(now["pseudo_id"]) != set(then["pseudo_id"])
    assert sha256_file(newest) == newest_bytes  # the newest month's warehouse was not overwritten
    built = json.loads(warehouse.warehouse_at(past.isoformat()).with_name("build.json").read_text())
    assert built["raw"] and max(r["extract_date"] for r in built["raw"]) <= past.isoformat()
    assert built["dbt_vars"]["reference_date"] == past.isoformat() and built["code"]["libraries"]["duckdb"]
    make_current(warehouse, REFERENCE.isoformat())  # back to the newest, no rebuild needed
    assert query(warehouse, "select count(*) as n from marts.dim_person")["n"][0] == now.height


def test_translator_maps_sources_to_raw_and_identity_assets():
    import dagster as dg

    from dagster_project.warehouse import WAREHOUSE_ASSETS

    (assets,) = WAREHOUSE_ASSETS
    keys = {k.to_user_string() for k in assets.keys}
    assert {"warehouse/dim_person", "warehouse/mart_segmentation", "warehouse/mart_risk",
            "warehouse/mart_inequalities", "warehouse/fct_conditions",
            "warehouse/mart_condition_flags", "warehouse/rule_parameters"} <= keys
    deps = {k.to_user_string() for k in assets.dependency_keys} - keys
    assert deps == {
        "raw/gp/patients", "raw/gp/registrations", "raw/gp/events", "raw/gp/medications",
        "raw/acute/apc", "raw/acute/ecds", "raw/acute/opa", "raw/talking_therapies/referrals",
        "raw/community/contacts", "raw/social_care/clients", "raw/reference/practices",
        "raw/outreach/outcomes",
        "identity/pseudo_keys", "identity/opt_outs"}
    assert set(assets.group_names_by_key.values()) == {  # grouped by dbt layer
        "warehouse_staging", "warehouse_intermediate", "warehouse_marts", "warehouse_seeds"}
    checks = list(assets.check_specs)
    assert len(checks) > 100
    assert any(c.blocking for c in checks)
    assert dg.AssetKey(["warehouse", "mart_segmentation"]) in {c.asset_key for c in checks}


def test_calibration_fit_recovers_known_rate_ratios():
    import numpy as np

    from dagster_project.warehouse.calibration import fit_poisson

    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(50_000), rng.integers(0, 2, 50_000), rng.integers(0, 5, 50_000)])
    y = rng.poisson(np.exp(x @ np.array([-2.0, 0.7, 0.25])))
    beta = fit_poisson(x.astype(float), y.astype(float))
    assert np.allclose(beta, [-2.0, 0.7, 0.25], atol=0.06)


def test_reference_date_defaults_to_newest_published_extract(tmp_path: Path):
    from dagster_project.sources import raw_zone
    from dagster_project.sources.registry import load_registry
    from dagster_project.warehouse.reference_date import resolve_reference_date

    zones = Zones.at(tmp_path / "data")
    spec = load_registry()["gp__patients"]
    for d in ("2026-09-01", "2026-10-01"):
        raw_zone.partition_file(zones.raw, spec, d).parent.mkdir(parents=True)
        raw_zone.partition_file(zones.raw, spec, d).write_bytes(b"")
    assert resolve_reference_date(zones, None) == "2026-10-01"
    assert resolve_reference_date(zones, "2026-09-01") == "2026-09-01"
    with pytest.raises(ValueError):
        resolve_reference_date(zones, "01/09/2026")
