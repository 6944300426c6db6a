"""The prior: the chance that two random identity profiles are the same person.

One owner for it (training sets it, every scoring run re-estimates it on the data being
scored). It is counted from deterministic rules whose agreeing pairs are almost all true
matches, divided by the share of true matches those rules find (their *recall*) and by
all pairs. The recall differs between data: on NHS data most duplicates share a valid NHS
number (~0.8 of true pairs agree on a rule); on foreign data without NHS numbers only
the exact name + date-of-birth rule applies and finds a fifth to a third of them, so a
fixed recall would underrate the prior ~4x there (FEBRL). So training measures it:
`calibrate_rule_recall` iterates prior = expected matches / comparisons with the trained
model's own match probabilities until it settles, and the recall it implies is stored in
the model's metadata for every later scoring run (one cheap count, no extra prediction).
"""

from __future__ import annotations

import polars as pl

# Deterministic rules whose agreeing pairs are (almost all) true matches.
PRIOR_RULES = (("nhs_number",), ("dob_string", "family_name", "given_name"))
# The rules' recall before a model has measured it (and for models trained before it was
# measured): Splink's documentation suggests estimating it; 0.8 suits NHS data.
DEFAULT_RULE_RECALL = 0.8
# Bounds on a measured recall: below 0.05 a handful of agreeing pairs would imply a huge
# prior; the rules cannot find more matches than exist.
RECALL_BOUNDS = (0.05, 1.0)
METADATA_KEY = "prior_rule_recall"


def _pairs_agreeing(profile_table: pl.DataFrame, columns: tuple[str, ...]) -> int:
    present = [c for c in columns if c in profile_table.columns]
    if len(present) < len(columns):
        return 0
    counts = profile_table.drop_nulls(present).group_by(present).len()
    return int(counts.select((pl.col("len") * (pl.col("len") - 1) // 2).sum()).item() or 0)


def rule_pairs(profile_table: pl.DataFrame) -> int:
    """Pairs agreeing on either deterministic rule (exact, inclusion-exclusion)."""
    a, b = PRIOR_RULES
    return (_pairs_agreeing(profile_table, a) + _pairs_agreeing(profile_table, b)
            - _pairs_agreeing(profile_table, tuple(dict.fromkeys(a + b))))


def estimate_prior(profile_table: pl.DataFrame, recall: float | None = None) -> float:
    """The prior, never 0 or 1.

    Splink's estimator sets the prior to 0 when no pair agrees (every record distinct, or
    identical records collapsed into one profile) and `predict()` then fails on log(0); so
    one pseudo-pair is added to the count (add-one smoothing), and the result is capped
    at 0.5: even data made wholly of duplicates is not evidence that any two random
    records match with certainty.
    """
    recall = DEFAULT_RULE_RECALL if recall is None else recall
    n = profile_table.height
    total = n * (n - 1) // 2
    if total == 0:
        return 0.5
    return float(min(max((rule_pairs(profile_table) + 1) / recall / total, 1.0 / (total + 1)), 0.5))


def rule_recall(metadata: dict) -> float:
    """The recall a trained model measured on its training data (the default if none)."""
    return float(metadata.get(METADATA_KEY) or DEFAULT_RULE_RECALL)


def with_prior(model_settings: dict, profile_table: pl.DataFrame, recall: float | None = None) -> dict:
    """The model's settings with the prior re-estimated on the data being scored.

    The prior scales with 1/population: a model trained on 20,000 people applied to 1.1
    million would overrate every match ~50-fold. Re-estimating it is cheap and changes
    no m or u parameter, so refreshes still only score; training stays on demand.
    """
    return {**model_settings, "probability_two_random_records_match": estimate_prior(profile_table, recall)}


def calibrate_rule_recall(profile_table: pl.DataFrame, expected_matches, iterations: int = 10,
                          tolerance: float = 0.02) -> tuple[float, list[dict]]:
    """The rules' recall that makes the prior agree with the model's own predictions.

    `expected_matches(prior)` scores the data at that prior and returns the sum of match
    probabilities over the compared pairs (the model's expected number of true pairs).
    Iterating prior <- expected / all pairs is the expectation-maximisation update of the
    prior alone; the recall is then rule pairs / expected. Stops when the recall moves by
    less than `tolerance` (relative) or after `iterations`; bounded by RECALL_BOUNDS, so
    never a prior of 0 or 1. Returns the recall and each step (for the training report).
    """
    agreeing = rule_pairs(profile_table) + 1  # the same add-one smoothing as estimate_prior
    recall, steps = DEFAULT_RULE_RECALL, []
    for _ in range(iterations):
        prior = estimate_prior(profile_table, recall)
        expected = float(expected_matches(prior))
        new = min(max(agreeing / max(expected, 1.0), RECALL_BOUNDS[0]), RECALL_BOUNDS[1])
        steps.append({"prior": prior, "expected_matches": round(expected, 1), "recall": new})
        if abs(new - recall) <= tolerance * recall:
            return new, steps
        recall = new
    return recall, steps
