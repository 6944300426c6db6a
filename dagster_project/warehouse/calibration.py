"""Fit the emergency-admission risk coefficients on the warehouse's back-test.

    python -m dagster_project.warehouse.calibration --data-dir DIR [--write]

Reads `intermediate.int_risk_backtest` (the population a year before the reference date,
with the features they had then and the emergency admissions they had since), fits the
Poisson rate model of mart_risk by maximum likelihood (IRLS), prints the coefficients
and the calibration by decile, and with --write replaces dbt/seeds/parameters/
risk_coefficients.csv. The model stays the documented formula; only its numbers are
fitted. Re-run after a change to the features or when the calibration test warns.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

SEED = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "parameters" / "risk_coefficients.csv"
CATEGORICAL = {  # term -> (feature column, reference level, levels)
    "age_band": ("risk_age_band", "40-59",
                 ["00-17", "18-39", "40-59", "60-69", "70-79", "80-89", "90+"]),
    "sex": ("sex", "F", ["F", "M", "U"]),
    "frailty_band": ("risk_frailty_band", "fit",
                     ["fit", "not_assessed", "mild", "moderate", "severe"]),
    "imd_quintile": ("imd_quintile_level", "5", ["1", "2", "3", "4", "5", "unknown"]),
}
NUMERIC = {"ltc_count": ("ltc_count", 6), "prior_emergency_admissions": ("prior_emergency_admissions", 4)}


def read_backtest(warehouse: Path) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql("select * from intermediate.int_risk_backtest").pl()
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


def fit_poisson(x: np.ndarray, y: np.ndarray, iterations: int = 50, ridge: float = 1e-6) -> np.ndarray:
    """Poisson GLM with log link by iteratively reweighted least squares."""
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(max(y.mean(), 1e-6))
    for _ in range(iterations):
        eta = x @ beta
        mu = np.exp(eta)
        z = eta + (y - mu) / mu
        xtw = x.T * mu
        new = np.linalg.solve(xtw @ x + ridge * np.eye(x.shape[1]), xtw @ z)
        if np.max(np.abs(new - beta)) < 1e-8:
            return new
        beta = new
    return beta


def coefficients_frame(beta: np.ndarray, names: list[tuple[str, str]]) -> pl.DataFrame:
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
                     "description": text + " (fitted on the synthetic back-test)"})
    return pl.DataFrame(rows)


def calibration_by_decile(frame: pl.DataFrame, predicted: np.ndarray) -> pl.DataFrame:
    return (frame.with_columns(predicted=pl.Series(predicted))
            .with_columns(decile=(pl.col("predicted").rank("ordinal") * 10 / pl.len()).ceil()
                          .cast(pl.Int32))
            .group_by("decile").agg(people=pl.len(), predicted=pl.col("predicted").sum(),
                                    observed=pl.col("observed_emergency_admissions_12m").sum())
            .with_columns(ratio=pl.col("observed") / pl.col("predicted")).sort("decile"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--write", action="store_true", help=f"replace {SEED}")
    args = parser.parse_args(argv)
    frame = read_backtest(args.data_dir / "warehouse" / "warehouse.duckdb")
    x, names = design(frame)
    y = frame["observed_emergency_admissions_12m"].to_numpy().astype(float)
    beta = fit_poisson(x, y)
    coefs = coefficients_frame(beta, names)
    with pl.Config(tbl_rows=50):
        print(coefs)
        print(calibration_by_decile(frame, np.exp(x @ beta)))
    if args.write:
        coefs.write_csv(SEED)
        print(f"wrote {SEED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
