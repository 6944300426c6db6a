"""Refit the emergency-admission risk coefficients on the development window.

The model is the documented formula of macro risk_prediction (dbt/macros/risk.sql); only
its numbers are fitted, never typed in:

- **fit** on `intermediate.int_risk_development` (features 24 months before the reference
  date, emergency admissions in the following 12 months) by maximum likelihood (Poisson
  GLM, Newton steps with step-halving and a small ridge);
- **evaluate out of time** on `intermediate.int_risk_backtest` (features 12 months before
  the reference date, admissions up to it): AUC, Brier, observed / expected, against an
  age band x sex model fitted on the same development window.

As a Dagster asset, `warehouse/risk_coefficients_refit` (group `risk_model`, run by hand
after a warehouse build) writes `$PHM_DATA_DIR/warehouse/risk_coefficients_refit.csv`,
`risk_coefficients_refit.json` (the time-split metrics of the refit and of the seed in
use) and shows both as metadata. Promoting a refit into the model the warehouse uses is
a reviewed change to the seed, made by the same code:

    python -m dagster_project.warehouse.calibration --data-dir DIR [--write]

--write replaces dbt/seeds/parameters/risk_coefficients.csv, each row's description
naming what it was fitted on (reference date, window, people, events).
"""


import argparse
import json
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import polars as pl
from dagster import AssetExecutionContext
from scipy.stats import rankdata

from dagster_project.lib.files import write_atomic, write_json_atomic
from dagster_project.lib.zones import Zones
from dagster_project.ops.concurrency import WAREHOUSE_POOL
from dagster_project.resources import PlatformResource

SEED = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "parameters" / "risk_coefficients.csv"
CATEGORICAL = {  # term -> (feature column, reference level, levels)
    "age_band": ("risk_age_band", "40-59",
                 ["00-17", "18-39", "40-59", "60-69", "70-79", "80-89", "90+"]),
    "sex": ("sex", "F", ["F", "M", "U"]),
    "frailty_band": ("risk_frailty_band", "fit",
                     ["fit", "not_assessed", "mild", "moderate", "severe"]),
    "imd_quintile": ("imd_quintile_level", "5", ["1", "2", "3", "4", "5", "unknown"]),
}
NUMERIC = {"ltc_count": ("ltc_count", 6),
           "prior_emergency_admissions": ("prior_emergency_admissions", 4),
           "palliative_care": ("palliative_care", 1)}


DEVELOPMENT = "int_risk_development"
EVALUATION = "int_risk_backtest"
OUTCOME = "observed_emergency_admissions_12m"


def read_window(warehouse: Path, model: str) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(f"select * from intermediate.{model} order by pseudo_id").pl()
    finally:
        con.close()


def design(frame: pl.DataFrame) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Columns: intercept, one dummy per non-reference level, the capped numeric terms."""
    cols, names = [np.ones(frame.height)], [("intercept", "")]
    for term, (col, ref, levels) in CATEGORICAL.items():
        values = frame[col].cast(pl.String).to_numpy()
        for level in levels:
            if level == ref:
                continue
            cols.append((values == level).astype(float))
            names.append((term, level))
    for term, (col, cap) in NUMERIC.items():
        cols.append(np.minimum(frame[col].to_numpy().astype(float), cap))
        names.append((term, ""))
    return np.column_stack(cols), names


def fit_poisson(x: np.ndarray, y: np.ndarray, iterations: int = 100, ridge: float = 1e-4) -> np.ndarray:
    """Poisson GLM with log link by iteratively reweighted least squares.

    A small ridge keeps sparse levels (a handful of people in a band) finite, and each
    step is halved until the penalised deviance falls, so the fit cannot diverge.
    """
    def loss(b: np.ndarray) -> float:
        eta = np.clip(x @ b, -30, 10)
        return float(np.sum(np.exp(eta) - y * eta) + 0.5 * ridge * np.sum(b[1:] ** 2))

    beta = np.zeros(x.shape[1])
    beta[0] = np.log(max(y.mean(), 1e-6))
    penalty = ridge * np.eye(x.shape[1])
    penalty[0, 0] = 0.0
    current = loss(beta)
    for _ in range(iterations):
        mu = np.exp(np.clip(x @ beta, -30, 10))
        gradient = x.T @ (y - mu) - penalty @ beta
        hessian = (x.T * mu) @ x + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(x.shape[1]), gradient)
        t = 1.0
        while t > 1e-6:
            candidate = beta + t * step
            value = loss(candidate)
            if value <= current:
                break
            t /= 2
        else:
            return beta
        converged = np.max(np.abs(candidate - beta)) < 1e-8
        beta, current = candidate, value
        if converged:
            break
    return beta


def coefficients_frame(beta: np.ndarray, names: list[tuple[str, str]],
                       fitted_on: str = "the synthetic development window") -> pl.DataFrame:
    fitted = {n: b for n, b in zip(names, beta)}
    rows = []
    for term, level in [("intercept", "")] + [
        (t, lv) for t, (_, _, levels) in CATEGORICAL.items() for lv in levels
    ] + [(t, "") for t in NUMERIC]:
        ref = CATEGORICAL.get(term, (None, None))[1]
        coef = 0.0 if level == ref else float(fitted.get((term, level), 0.0))
        if term == "intercept":
            text = "log rate of emergency admissions per person-year, reference group"
        elif term in NUMERIC:
            text = f"log rate ratio per unit (capped at {NUMERIC[term][1]})"
        elif level == ref:
            text = "reference"
        else:
            text = f"log rate ratio vs {ref}"
        rows.append({"term": term, "level": level, "coefficient": round(coef, 4),
                     "description": f"{text} (fitted on {fitted_on})"})
    return pl.DataFrame(rows)


def calibration_by_decile(frame: pl.DataFrame, predicted: np.ndarray) -> pl.DataFrame:
    return (frame.with_columns(predicted=pl.Series(predicted))
            .with_columns(decile=(pl.col("predicted").rank("ordinal") * 10 / pl.len()).ceil()
                          .cast(pl.Int32))
            .group_by("decile").agg(people=pl.len(), predicted=pl.col("predicted").sum(),
                                    observed=pl.col("observed_emergency_admissions_12m").sum())
            .with_columns(ratio=pl.col("observed") / pl.col("predicted")).sort("decile"))


def auc(label: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney with average ranks for ties)."""
    label = np.asarray(label, bool)
    ranks = rankdata(np.asarray(score, float))
    n1, n0 = label.sum(), (~label).sum()
    return float((ranks[label].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)) if n1 and n0 else float("nan")


def predict(frame: pl.DataFrame, coefficients: pl.DataFrame) -> np.ndarray:
    """Expected admissions from a coefficient table (the formula of macro risk_prediction)."""
    x, names = design(frame)
    lookup = {(r["term"], r["level"] or ""): r["coefficient"] for r in coefficients.iter_rows(named=True)}
    beta = np.array([lookup.get(n, 0.0) for n in names])
    return np.exp(x @ beta)


def age_sex_expected(development: pl.DataFrame, frame: pl.DataFrame) -> np.ndarray:
    """The comparator: each age band x sex cell's observed rate on the development window."""
    rates = development.group_by("risk_age_band", "sex").agg(rate=pl.col(OUTCOME).mean())
    overall = development[OUTCOME].mean()
    joined = frame.select("risk_age_band", "sex").join(
        rates, on=["risk_age_band", "sex"], how="left", maintain_order="left")
    return joined["rate"].fill_null(overall).to_numpy()


def evaluate(frame: pl.DataFrame, expected: np.ndarray) -> dict[str, float]:
    y = frame[OUTCOME].to_numpy().astype(float)
    p = 1 - np.exp(-expected)
    return {"n": int(frame.height), "events": int((y > 0).sum()), "auc": round(auc(y > 0, p), 4),
            "brier": round(float(np.mean((p - (y > 0)) ** 2)), 5),
            "observed_expected": round(float(y.sum() / expected.sum()), 3)}


def refit(warehouse: Path, source: str = "the warehouse") -> tuple[pl.DataFrame, dict]:
    """Coefficients fitted on the development window and the time-split report."""
    development = read_window(warehouse, DEVELOPMENT)
    evaluation = read_window(warehouse, EVALUATION)
    x, names = design(development)
    y = development[OUTCOME].to_numpy().astype(float)
    beta = fit_poisson(x, y)
    as_of = str(development["as_of_date"].min())[:10]
    fitted_on = (f"the development window of {source}: features as of {as_of}, admissions "
                 f"in the next 12 months; {development.height:,} people, {int((y > 0).sum()):,} "
                 "with an admission")
    coefficients = coefficients_frame(beta, names, fitted_on)
    seed = pl.read_csv(SEED, schema_overrides={"level": pl.String}).with_columns(
        pl.col("level").fill_null(""))
    report = {
        "development_as_of": str(as_of),
        "evaluation_as_of": str(evaluation["as_of_date"].min())[:10],
        "time_split": {
            "refit": evaluate(evaluation, predict(evaluation, coefficients)),
            "seed_in_use": evaluate(evaluation, predict(evaluation, seed)),
            "age_sex_only": evaluate(evaluation, age_sex_expected(development, evaluation)),
        },
        "development_apparent": evaluate(development, np.exp(x @ beta)),
    }
    return coefficients, report


@dg.asset(
    key=["warehouse", "risk_coefficients_refit"],
    deps=[dg.AssetKey(["warehouse", DEVELOPMENT]), dg.AssetKey(["warehouse", EVALUATION])],
    group_name="risk_model",
    pool=WAREHOUSE_POOL,  # reads warehouse.duckdb: not while dbt writes it
    description="Refit of the emergency admission risk coefficients on the development "
                "window, with the out-of-time evaluation of the refit, the seed in use and "
                "an age-and-sex model (dagster_project/warehouse/calibration.py).",
)
def risk_coefficients_refit(context: AssetExecutionContext,
                            platform: PlatformResource) -> dg.MaterializeResult:
    zones = platform.zones
    coefficients, report = refit(zones.warehouse_db)
    write_atomic(zones.warehouse / "risk_coefficients_refit.csv", coefficients.write_csv)
    write_json_atomic(zones.warehouse / "risk_coefficients_refit.json", report)
    split = report["time_split"]
    context.log.info(f"time-split evaluation: {split}")
    return dg.MaterializeResult(metadata={
        "coefficients": dg.MetadataValue.md(coefficients.select(
            "term", "level", "coefficient").to_pandas().to_markdown(index=False)),
        "time_split_auc_refit": split["refit"]["auc"],
        "time_split_auc_seed": split["seed_in_use"]["auc"],
        "time_split_auc_age_sex_only": split["age_sex_only"]["auc"],
        "time_split_observed_expected_refit": split["refit"]["observed_expected"],
        "report": dg.MetadataValue.json(report),
    })


RISK_MODEL_ASSETS = [risk_coefficients_refit]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--write", action="store_true", help=f"replace {SEED}")
    parser.add_argument("--source", default="the warehouse",
                        help="what the warehouse holds, for the seed's descriptions "
                             "(e.g. 'the 20,000-person synthetic ICS, seed 5')")
    args = parser.parse_args(argv)
    warehouse = Zones.at(args.data_dir).warehouse_db
    coefficients, report = refit(warehouse, args.source)
    development = read_window(warehouse, DEVELOPMENT)
    with pl.Config(tbl_rows=50):
        print(coefficients.select("term", "level", "coefficient"))
        print(calibration_by_decile(development, predict(development, coefficients)))
    print(json.dumps(report, indent=2))
    if args.write:
        coefficients.write_csv(SEED)
        print(f"wrote {SEED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
