"""The Splink model: comparisons, blocking rules, unsupervised training, versioned JSON.

Comparisons suit the fields and the errors real records carry (synthetic/identity.py
lists them with their published rates):
- NHS number: exact; one character apart as recorded (a slip or a transposition, which
  fail modulus 11); one number invalid; two *different valid* numbers are strong
  evidence against (fixed, see FIXED_M) unless names and date of birth agree exactly,
  when a mistyped-but-valid number is likelier than a stranger (the twin-safe rule: twins
  share a date of birth and surname but not a given name).
- Names: given name and surname compared separately (Splink's name levels: exact with
  term-frequency adjustment, Jaro-Winkler 0.92/0.88/0.7), each also matching the other
  record's other name (swapped order), an initial for the given name, one part of a
  double-barrelled surname.
- Date of birth: exact; day and month swapped; partly known (1 January / the 1st of the
  month); one character apart (typo or transposition); within a month, a year, ten years.
- Postcode: unit, sector, district, area (UK-shaped postcodes; a foreign one compares
  only as a whole); people move, so a different postcode is only weak evidence against.
- Sex: exact, or different (recorded wrongly, or gender recorded differently).

Training needs no labels: u from random sampling, m by expectation maximisation on
blocking passes (`EM_PASSES`) so every comparison is trained on pairs not blocked on itself. A level
EM could not train (no example in the data) must not become an accidental veto, so after
training every level's m is checked against a floor, and the one deliberately strong
level is fixed (`FIXED_M`, `M_FLOOR`, each with its reason); what was adjusted is
recorded in the model's metadata.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on

from dagster_project.linkage.backends import Backend
from dagster_project.linkage.prior import METADATA_KEY, calibrate_rule_recall, estimate_prior

MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_FILE = "person_model.json"


def nhs_number_comparison() -> cl.CustomComparison:
    """`nhs_number` holds only valid numbers; `nhs_number_recorded` what the source said.

    A number failing modulus 11 is not evidence of identity on its own, but one that is a
    single slip away from the other record's number is: that is what the slip level
    compares, on the numbers as recorded.
    """
    return cl.CustomComparison(
        output_column_name="nhs_number",
        comparison_levels=[
            cll.NullLevel("nhs_number_recorded"),
            cll.ExactMatchLevel("nhs_number"),
            cll.DamerauLevenshteinLevel("nhs_number_recorded", distance_threshold=1).configure(
                label_for_charts="One character apart (as recorded)"
            ),
            cll.CustomLevel(
                "nhs_number_l IS NULL OR nhs_number_r IS NULL",
                label_for_charts="One number fails modulus 11",
            ),
            cll.CustomLevel(
                "dob_string_l = dob_string_r AND ((given_name_l = given_name_r AND family_name_l = family_name_r)"
                " OR (given_name_l IS NULL AND family_name_l IS NULL)"
                " OR (given_name_r IS NULL AND family_name_r IS NULL))",
                label_for_charts="Different valid numbers, date of birth and names identical (or no names)",
            ),
            cll.ElseLevel().configure(label_for_charts="Different valid numbers"),
        ],
        comparison_description="NHS number: exact, one slip apart, one invalid, different (twin-safe)",
    )


def given_name_comparison() -> cl.CustomComparison:
    """Given name on its own (Splink's name-comparison levels plus the errors records carry),
    so a typo in one name still leaves the other's full evidence (a combined name level
    gave "given name exact, surname mistyped" too little on foreign data)."""
    jw = cll.JaroWinklerLevel
    return cl.CustomComparison(
        output_column_name="given_name",
        comparison_levels=[
            cll.NullLevel("given_name"),
            cll.ExactMatchLevel("given_name").configure(tf_adjustment_column="given_name"),
            cll.CustomLevel("given_name_l = family_name_r OR family_name_l = given_name_r",
                            label_for_charts="Given name recorded as the surname (names swapped)"),
            cll.CustomLevel("given_initial_l = given_initial_r AND (length(given_name_l) = 1 OR length(given_name_r) = 1)",
                            label_for_charts="An initial for the given name, consistent"),
            jw("given_name", 0.92), jw("given_name", 0.88), jw("given_name", 0.7),
            cll.ElseLevel(),
        ],
        comparison_description="Given name: exact (tf), swapped with the surname, initial, Jaro-Winkler 0.92/0.88/0.7",
    )


def family_name_comparison() -> cl.CustomComparison:
    """Surname on its own: exact, swapped, one part of a double-barrelled surname, fuzzy."""
    jw = cll.JaroWinklerLevel
    return cl.CustomComparison(
        output_column_name="family_name",
        comparison_levels=[
            cll.NullLevel("family_name"),
            cll.ExactMatchLevel("family_name").configure(tf_adjustment_column="family_name"),
            cll.CustomLevel("family_name_l = given_name_r OR given_name_l = family_name_r",
                            label_for_charts="Surname recorded as the given name (names swapped)"),
            cll.Or(cll.ExactMatchLevel("family_first"), cll.ExactMatchLevel("family_last")).configure(
                label_for_charts="One part of a double-barrelled surname in common"),
            jw("family_name", 0.92), jw("family_name", 0.88), jw("family_name", 0.7),
            cll.ElseLevel(),
        ],
        comparison_description="Surname: exact (tf), swapped, one part of a double-barrelled surname, Jaro-Winkler",
    )


def date_of_birth_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="date_of_birth",
        comparison_levels=[
            cll.NullLevel("dob_string"),
            cll.ExactMatchLevel("dob_string"),
            cll.CustomLevel(
                "(dob_swapped_l = dob_string_r) OR (dob_string_l = dob_swapped_r)",
                label_for_charts="Day and month swapped",
            ),
            cll.CustomLevel(
                "birth_year_l = birth_year_r AND (dob_jan1_l = 1 OR dob_jan1_r = 1 OR "
                "(dob_year_month_l = dob_year_month_r AND (dob_day1_l = 1 OR dob_day1_r = 1)))",
                label_for_charts="Partly known (1 January or the 1st), consistent",
            ),
            cll.DamerauLevenshteinLevel("dob_string", distance_threshold=1).configure(
                label_for_charts="One character apart (typo or transposition)"),
            cll.AbsoluteDateDifferenceLevel("date_of_birth", threshold=1, metric="month", input_is_string=False),
            cll.AbsoluteDateDifferenceLevel("date_of_birth", threshold=1, metric="year", input_is_string=False),
            cll.AbsoluteDateDifferenceLevel("date_of_birth", threshold=10, metric="year", input_is_string=False),
            cll.ElseLevel(),
        ],
        comparison_description="Date of birth: exact, swapped, partial, one character, within a month/year/10 years",
    )


def postcode_comparison() -> cl.CustomComparison:
    """Unit, then sector/district/area from derived columns that are null for a postcode
    that is not UK-shaped (so a foreign code agrees only as a whole)."""
    return cl.CustomComparison(
        output_column_name="postcode",
        comparison_levels=[
            cll.NullLevel("postcode"),
            cll.ExactMatchLevel("postcode"),
            cll.ExactMatchLevel("postcode_sector"),
            cll.ExactMatchLevel("postcode_district"),
            cll.ExactMatchLevel("postcode_area"),
            cll.ElseLevel(),
        ],
        comparison_description="Postcode: unit, sector, district, area",
    )


def address_line_comparison() -> cl.CustomComparison:
    """House and street (cleaned, street words abbreviated): exact, near (a typo), else.
    Only in models trained on data that carries address lines."""
    return cl.CustomComparison(
        output_column_name="address_line",
        comparison_levels=[
            cll.NullLevel("address_line"),
            cll.ExactMatchLevel("address_line").configure(tf_adjustment_column="address_line"),
            cll.JaroWinklerLevel("address_line", 0.9),
            cll.ElseLevel(),
        ],
        comparison_description="Address line: exact (tf), Jaro-Winkler 0.9",
    )


def other_identifier_comparison() -> cl.CustomComparison:
    """A supplier's own identifier: exact, one character apart, else. Only in models
    trained on data that carries one."""
    return cl.CustomComparison(
        output_column_name="other_identifier",
        comparison_levels=[
            cll.NullLevel("other_identifier"),
            cll.ExactMatchLevel("other_identifier"),
            cll.DamerauLevenshteinLevel("other_identifier", distance_threshold=1),
            cll.ElseLevel(),
        ],
        comparison_description="Other identifier: exact, one character apart",
    )


OPTIONAL_COMPARISONS = {"address_line": address_line_comparison, "other_identifier": other_identifier_comparison}


def optional_fields_present(profile_table: pl.DataFrame) -> list[str]:
    """The optional identity fields (records.OPTIONAL_FIELDS) this data carries: those with
    values on at least two profiles (one value can agree with nothing)."""
    return [f for f in OPTIONAL_COMPARISONS
            if f in profile_table.columns and profile_table[f].drop_nulls().len() >= 2]


# Conditions on the rules keyed on a place and a partial date (and on swapped names), whose
# candidate pairs are the most numerous; the join stays a hash join on the keys, the
# conditions only drop pairs before they are scored (scoring costs ~2 us a pair at 1.1M
# people: docs/linkage_performance.md).
# Sex agrees or is unknown on one side: a record of the other sex (0.1% of records,
# identity.py) is still compared by the name, NHS number and exact date rules.
SEX_AGREES_OR_UNKNOWN = "(l.sex = r.sex OR l.sex IS NULL OR r.sex IS NULL)"
# One side has no valid NHS number: two valid numbers either agree (the NHS-number rule
# pairs them) or differ (-19 bits), and a pair these rules alone find has a date of birth or
# postcode that is not exact, so with differing valid numbers it cannot reach the threshold
# at ICS scale (on four fresh 20,000-person ICSs this condition changed recall once, by
# 0.00002). Foreign data without NHS numbers passes it.
ONE_WITHOUT_VALID_NHS = "(l.nhs_number IS NULL OR r.nhs_number IS NULL)"


def blocking_rules_for_prediction() -> list:
    """Blocking rules: each catches true pairs the others would miss, chosen from a
    recall analysis of the true pairs no rule compared (benchmarks/linkage_recall_analysis.py;
    sizes from `blocking_analysis`, see the training report). Besides name and date-of-
    birth rules: the halves of a mistyped NHS number with the date of birth; a date of
    birth read day-for-month; the postcode with the birth year (a mistyped day or month)
    and with the day and month (a mistyped year). Every rule keys on a postcode (a few dozen
    people per unit), a full date of birth or a name, so its candidate pairs grow with the
    population, not its square, as long as postcode units stay small (a synthetic ICS
    with ~150 people per unit made them quadratic: docs/linkage_performance.md); the
    broadest (district + date, postcode + year) also require the sex to agree or be unknown,
    and those and the name swap one side without a valid NHS number.
    """
    from splink.blocking_rule_library import CustomRule

    sex, nhs = SEX_AGREES_OR_UNKNOWN, ONE_WITHOUT_VALID_NHS
    return [
        block_on("nhs_number"),
        block_on("dob_string", "postcode"),
        block_on("dob_string", "family_name"),
        block_on("given_name", "family_name", "birth_year"),
        block_on("dob_string", "given_name"),
        block_on("family_name", "postcode"),
        CustomRule(f"l.dob_string = r.dob_string AND l.postcode_district = r.postcode_district AND {sex} AND {nhs}"),
        block_on("dob_string", "nhs_head"),
        block_on("dob_string", "nhs_tail"),
        CustomRule(f"l.postcode = r.postcode AND l.birth_year = r.birth_year AND {sex} AND {nhs}"),
        # a mistyped or transposed birth year at the same postcode (name-less hospital
        # records without a valid NHS number: no other rule pairs them; 32 of the 78 such
        # records left out of their person on the dev ICS, seed 2030 messiness 2). Two
        # valid numbers that differ score as different people whatever the date, and two
        # that agree are paired by the NHS number rule: only pairs missing one are scored.
        CustomRule(f"l.postcode = r.postcode AND l.dob_month_day = r.dob_month_day AND {nhs}"),
        CustomRule(f"l.dob_swapped = r.dob_string AND l.postcode_district = r.postcode_district AND {sex} AND {nhs}"),
        CustomRule(f"l.dob_string = r.dob_swapped AND l.postcode_district = r.postcode_district AND {sex} AND {nhs}"),
        # given name and surname recorded the other way round (FEBRL: most such pairs
        # also lack a date of birth or moved, so no other rule pairs them)
        CustomRule(f"l.given_name = r.family_name AND l.family_name = r.given_name AND {nhs}"),
    ]


# EM passes, each blocked on fields it then cannot train: postcode and birth year trains
# NHS number (whose twin-safe level reads names and date of birth), names and sex; NHS
# number trains date of birth and postcode.
EM_PASSES = (("postcode", "birth_year"), ("nhs_number",), ("given_name", "family_name"), ("dob_string",))
# only when the NHS-number pass found nothing (data without NHS numbers): names train the
# date of birth and postcode, the date of birth trains names
FALLBACK_PASSES = (("given_name", "family_name"), ("dob_string",))

# Levels fixed by decision, not by EM: (comparison, level label) -> (m, reason); a
# string m "weight:W" sets m = u * 2**W (a fixed match weight of W bits).
FIXED_M: dict[tuple[str, str], tuple[float | str, str]] = {
    ("nhs_number", "Different valid numbers, date of birth and names identical (or no names)"): (
        "weight:-4",
        "A valid number that is someone else's (a transcription that happens to pass modulus 11, "
        "or a relative's number) with the same date of birth and name: mild evidence against, "
        "~-4 bits as the previous trained model had; EM would make it positive (it double-"
        "counts the date of birth), which would merge same-sex twins on hospital records without names.",
    ),
    ("nhs_number", "Different valid numbers"): (
        2e-6,
        "Two different valid NHS numbers with names or date of birth also differing are "
        "almost never one person: ~-19 bits, enough to keep apart look-alikes with similar "
        "names and the same date of birth (the false merges of the previous model). EM "
        "cannot learn this from data where such pairs are rare.",
    ),
}
# A level EM saw no example of (data without NHS numbers trains date of birth only from
# name-blocked pairs, a small set) gets this m: the share of true matches showing that
# error, set from the published rates the synthetic generator also uses (identity.py:
# date-of-birth typos and transpositions ~0.5-1.5% of records, day/month swaps and
# partial dates rarer), not the floor, which would make a one-digit date typo count for nothing.
UNTRAINED_M = {
    ("date_of_birth", "Day and month swapped"): 0.01,
    ("date_of_birth", "Partly known (1 January or the 1st), consistent"): 0.01,
    ("date_of_birth", "One character apart (typo or transposition)"): 0.03,
    ("family_name", "One part of a double-barrelled surname in common"): 0.01,
    ("given_name", "An initial for the given name, consistent"): 0.005,
}
# No trained level may fall below this m: an error the training data did not show is
# still possible, and m = 0 would make one mistyped field outweigh every other agreement.
M_FLOOR = 1e-3
# Sex disagrees for reasons other than error (gender recorded instead of sex at birth):
# a mismatch is evidence against, never decisive (~-5.6 bits at u ~ 0.5).
M_FLOOR_BY_COMPARISON = {"sex": 0.01}


def settings(optional_fields: list[str] | tuple[str, ...] = ()) -> SettingsCreator:
    """The model's settings; `optional_fields` adds the comparisons of optional identity
    fields the training data carries (address line, other identifier)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            nhs_number_comparison(),
            given_name_comparison(),
            family_name_comparison(),
            date_of_birth_comparison(),
            postcode_comparison(),
            cl.ExactMatch("sex"),
            *[OPTIONAL_COMPARISONS[f]() for f in optional_fields],
        ],
        blocking_rules_to_generate_predictions=blocking_rules_for_prediction(),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        additional_columns_to_retain=[],
    )


@dataclass
class TrainedModel:
    settings: dict[str, Any]
    metadata: dict[str, Any]

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / MODEL_FILE
        path.write_text(json.dumps({**self.settings, "_phm_training": self.metadata}, indent=2))
        return path

    @classmethod
    def load(cls, path: Path) -> TrainedModel:
        doc = json.loads(path.read_text())
        metadata = doc.pop("_phm_training", {})
        return cls(settings=doc, metadata=metadata)


def linker_for(profile_table: pl.DataFrame, model_settings: SettingsCreator | dict, backend: Backend | None = None) -> Linker:
    backend = backend or Backend()
    db_api = backend.db_api()
    sdf = backend.register(db_api, profile_table, "profiles")
    return Linker(sdf, model_settings, log_level=None)


def model_file(backend: Backend | None = None) -> str:
    return MODEL_FILE.replace(".json", f"{(backend or Backend()).model_suffix}.json")


def blocking_analysis(profile_table: pl.DataFrame, backend: Backend | None = None) -> list[dict]:
    """Comparisons each prediction blocking rule adds (Splink's blocking analysis, exact)."""
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    backend = backend or Backend()
    db_api = backend.db_api()
    sdf = backend.register(db_api, profile_table, "profiles_for_blocking_analysis")
    counts = count_comparisons_from_blocking_rules(
        sdf, blocking_rules=blocking_rules_for_prediction(), link_type="dedupe_only",
        record_sample_proportion=1.0,
    )
    return [
        {"rule": c["blocking_rule"], "marginal": c["marginal_comparison_count"],
         "cumulative": c["cumulative_comparison_count"]}
        for c in counts
    ]


def train(
    profile_table: pl.DataFrame, seed: int = 42, max_pairs: float = 2e6, backend: Backend | None = None
) -> TrainedModel:
    """Train without labels: prior from NHS-number agreement, u by sampling, m by EM."""
    backend = backend or Backend()
    optional = optional_fields_present(profile_table)
    model_settings = settings(optional)
    model_settings.probability_two_random_records_match = estimate_prior(profile_table)
    linker = linker_for(profile_table, model_settings, backend)
    training = linker.training
    training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    passes = []
    for rule in EM_PASSES:
        if rule in FALLBACK_PASSES and any(p["ran"] and p["blocked_on"] == ["nhs_number"] for p in passes):
            continue
        # a pass whose blocking finds no pairs (no NHS numbers in foreign data, say) is
        # skipped, not fatal: the levels it would have trained are floored and reported
        try:
            training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
            passes.append({"blocked_on": list(rule), "ran": True})
        except Exception as exc:  # Splink raises several types for an empty or degenerate pass
            passes.append({"blocked_on": list(rule), "ran": False, "why": type(exc).__name__})
    if not any(p["ran"] for p in passes):
        raise ValueError("no expectation-maximisation pass found pairs to train on: is the data empty?")
    trained, adjustments = fix_parameters(linker.misc.save_model_to_json())

    def expected_matches(prior: float) -> float:
        # pairs below even odds count as non-matches: summing the long tail of tiny
        # probabilities over every compared pair would let the prior feed on itself
        scored = linker_for(profile_table, {**trained, "probability_two_random_records_match": prior}, backend)
        pairs = backend.fetch(scored.inference.predict(threshold_match_probability=0.5), ["match_probability"])
        return float(pairs["match_probability"].sum() or 0.0)

    recall, prior_steps = calibrate_rule_recall(profile_table, expected_matches)
    trained["probability_two_random_records_match"] = estimate_prior(profile_table, recall)
    metadata = {
        "em_passes": passes,
        "optional_fields": optional,
        METADATA_KEY: recall,
        "prior_calibration": prior_steps,
        "parameter_adjustments": adjustments,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "profiles": profile_table.height,
        "splink_version": splink.__version__,
        "duckdb_version": duckdb.__version__,
        "backend": backend.name,
        **({"spark_version": _spark_version()} if backend.name == "spark" else {}),
        "seed": seed,
        "u_max_pairs": max_pairs,
        "blocking_analysis": blocking_analysis(profile_table, backend),
    }
    return TrainedModel(settings=trained, metadata=metadata)


def fix_parameters(trained: dict) -> tuple[dict, list[dict]]:
    """Apply FIXED_M and the m floors to a trained model; renormalise each comparison's m
    over its other non-null levels so they still sum to 1. Returns the model and what changed."""
    adjustments = []
    for comparison in trained["comparisons"]:
        name = comparison["output_column_name"]
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        floor = M_FLOOR_BY_COMPARISON.get(name, M_FLOOR)
        fixed_idx = set()
        for i, level in enumerate(levels):
            label = level.get("label_for_charts", "")
            before = level.get("m_probability")
            if (name, label) in FIXED_M:
                value, reason = FIXED_M[(name, label)]
                if isinstance(value, str):
                    value = min((level.get("u_probability") or 1e-6) * 2 ** float(value.split(":")[1]), 0.5)
                level["m_probability"] = value
                fixed_idx.add(i)
                adjustments.append({"comparison": name, "level": label, "m_before": before,
                                    "m_after": level["m_probability"], "reason": reason})
            elif before is None and (name, label) in UNTRAINED_M:
                level["m_probability"] = UNTRAINED_M[(name, label)]
                fixed_idx.add(i)
                adjustments.append({"comparison": name, "level": label, "m_before": None,
                                    "m_after": level["m_probability"],
                                    "reason": "not seen by EM: m from published error rates (UNTRAINED_M)"})
            elif before is None or before < floor:
                level["m_probability"] = floor
                fixed_idx.add(i)
                adjustments.append({"comparison": name, "level": label, "m_before": before,
                                    "m_after": floor,
                                    "reason": "untrained or below the floor: not an accidental veto"})
        # a level random sampling never hit is rare among non-matches: give it the smallest
        # u seen in its comparison rather than Splink's default
        known_u = [lv["u_probability"] for lv in levels if lv.get("u_probability")]
        for level in levels:
            if not level.get("u_probability") and (known_u or level.get("m_probability")):
                known_u = known_u or [1e-6]
                level["u_probability"] = min(known_u)
                adjustments.append({"comparison": name, "level": level.get("label_for_charts", ""),
                                    "m_before": level.get("m_probability"), "m_after": level.get("m_probability") or 0.0,
                                    "reason": "u not seen in random sampling: set to the comparison's smallest u"})
        free = [lv for i, lv in enumerate(levels) if i not in fixed_idx]
        fixed_total = sum(lv["m_probability"] for i, lv in enumerate(levels) if i in fixed_idx)
        free_total = sum(lv.get("m_probability") or 0.0 for lv in free)
        if free and free_total > 0:
            scale = (1.0 - fixed_total) / free_total
            for lv in free:
                lv["m_probability"] = (lv.get("m_probability") or 0.0) * scale
    return trained, adjustments


def _spark_version() -> str:
    import pyspark

    return pyspark.__version__
