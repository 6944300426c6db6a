"""The Splink model: comparisons, blocking rules, unsupervised training, versioned JSON.

Comparisons suit the fields (Splink's comparison library wherever it has one):
- NHS number: exact, or one character apart (a slip or a transposition); a different
  number is strong evidence against, a missing one says nothing.
- Forename and surname together (`ForenameSurnameComparison`): exact with term-frequency
  adjustment (a match on SMITH is weaker evidence than one on GEDGE), names swapped,
  then fuzzy levels for typos.
- Date of birth: exact; day and month swapped; one character apart; within a month,
  a year, ten years.
- Postcode (`PostcodeComparison`): unit, sector, district, area; people move, so a
  different postcode is only weak evidence against.
- Sex: exact, weak evidence either way.

Training needs no labels: u from random sampling, m by expectation maximisation on two
blocking passes so every comparison is trained on pairs not blocked on itself.
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
            cll.ElseLevel(),
        ],
        comparison_description="NHS number: exact, one slip apart, one invalid, different",
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
            cll.DamerauLevenshteinLevel("dob_string", distance_threshold=1),
            cll.AbsoluteDateDifferenceLevel("date_of_birth", threshold=1, metric="month", input_is_string=False),
            cll.AbsoluteDateDifferenceLevel("date_of_birth", threshold=1, metric="year", input_is_string=False),
            cll.AbsoluteDateDifferenceLevel("date_of_birth", threshold=10, metric="year", input_is_string=False),
            cll.ElseLevel(),
        ],
        comparison_description="Date of birth: exact, day/month swapped, one character, within a month/year/10 years",
    )


def blocking_rules_for_prediction() -> list:
    """Blocking rules: each catches true pairs the others would miss (sized with
    `blocking_analysis`; see the training report)."""
    return [
        block_on("nhs_number"),
        block_on("dob_string", "postcode"),
        block_on("dob_string", "family_name"),
        block_on("given_name", "family_name", "birth_year"),
        block_on("dob_string", "given_name"),
        block_on("family_name", "postcode"),
        block_on("dob_string", "sex", "postcode_district"),
    ]


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            nhs_number_comparison(),
            cl.ForenameSurnameComparison(
                "given_name", "family_name", forename_surname_concat_col_name="name_concat"
            ).configure(term_frequency_adjustments=True),
            date_of_birth_comparison(),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("sex"),
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
    from dagster_project.linkage.scoring import estimate_prior

    model_settings = settings()
    model_settings.probability_two_random_records_match = estimate_prior(profile_table)
    linker = linker_for(profile_table, model_settings, backend)
    training = linker.training
    training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    # EM pass 1 blocks on date of birth: trains NHS number, names, postcode, sex
    training.estimate_parameters_using_expectation_maximisation(block_on("dob_string"))
    # EM pass 2 blocks on NHS number: trains date of birth (and names, postcode again)
    training.estimate_parameters_using_expectation_maximisation(block_on("nhs_number"))
    trained = linker.misc.save_model_to_json()
    metadata = {
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


def _spark_version() -> str:
    import pyspark

    return pyspark.__version__
