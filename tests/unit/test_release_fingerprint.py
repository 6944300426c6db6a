"""The release fingerprint (cohorts/inputs.py): what decides whether a release is republished.

The end-to-end skip (an unchanged project is not republished, a changed one is) runs on a
built warehouse in tests/integration/test_cohorts.py."""

from __future__ import annotations

import dataclasses

import polars as pl

from dagster_project.cohorts import inputs
from dagster_project.cohorts.registry import load_projects

USED = {"identity": {"opt_outs.parquet": {"sha256": "o1"}, "pseudo_keys.parquet": {"sha256": "k1"},
                     "contact_details.parquet": {"sha256": "c1"}},
        "earlier_releases": {"2026-10-01": {"summary.csv": "s1"}},
        "code_files": {"dagster_project/cohorts/publish.py": "p1"},
        "code": {"libraries": {"polars": "1"}, "python": "3.11"}}


def frames(cohort: pl.DataFrame) -> dict:
    return {"cohort": cohort, "evidence": pl.DataFrame({"pseudo_id": ["a"], "rule_id": ["r"]})}


def test_a_table_digest_ignores_row_order_but_not_content_or_type():
    table = pl.DataFrame({"pseudo_id": ["a", "b", "c"], "rank": [1, 2, 2], "reasons": [["x"], ["y", "z"], []]})
    assert inputs.frame_digest(table) == inputs.frame_digest(table.reverse())
    assert inputs.frame_digest(table) != inputs.frame_digest(table.with_columns(pl.col("rank").cast(pl.Int32)))
    assert inputs.frame_digest(table) != inputs.frame_digest(table.with_columns(rank=pl.Series([1, 2, 3])))
    assert inputs.frame_digest(table) != inputs.frame_digest(pl.concat([table, table.head(1)]))  # a repeated row
    assert inputs.frame_digest(table.clear()) != inputs.frame_digest(table.clear().drop("rank"))


def test_the_fingerprint_moves_with_each_input_a_release_reads_and_names_it():
    projects = load_projects()
    direct = projects["flu_vaccination"]
    assert direct.direct_care
    project = dataclasses.replace(direct, direct_care=False)  # every registered project has call lists
    cohort = pl.DataFrame({"pseudo_id": ["a", "b"], "practice_code": ["P1", "P2"]})
    base = inputs.fingerprint(project, "2026-11-01", USED, frames(cohort), {"rule_status": {"warnings": []}})
    assert base == inputs.fingerprint(project, "2026-11-01", USED, frames(cohort.reverse()), {"rule_status": {"warnings": []}})

    def moved(**change) -> list[str]:
        used = {**USED, **change.pop("used", {})}
        after = inputs.fingerprint(change.get("project", project), change.get("run_date", "2026-11-01"), used,
                                   frames(change.get("cohort", cohort)), change.get("facts", {"rule_status": {"warnings": []}}))
        assert (after["digest"] == base["digest"]) == (not inputs.changed_parts(base, after))
        return inputs.changed_parts(base, after)

    assert moved(cohort=cohort.with_columns(practice_code=pl.lit("P3"))) == ["warehouse.cohort"]
    assert moved(facts={"rule_status": {"warnings": ["rules on but firing for nobody"]}}) == ["warehouse.rule_status"]
    assert moved(run_date="2026-12-01") == ["run_date"]
    assert moved(project=dataclasses.replace(project, suppress_below=project.suppress_below + 1)) == ["registry_entry"]
    assert moved(used={"code_files": {"dagster_project/cohorts/publish.py": "p2"}}) == ["code_files"]
    assert moved(used={"code": {"libraries": {"polars": "2"}, "python": "3.11"}}) == ["libraries.polars"]
    assert moved(used={"earlier_releases": {}}) == ["earlier_releases"]
    assert moved(used={"identity": {**USED["identity"], "opt_outs.parquet": {"sha256": "o2"}}}) == ["identity.opt_outs.parquet"]
    # a project without call lists does not read pseudo keys or contact details ...
    assert moved(used={"identity": {**USED["identity"], "pseudo_keys.parquet": {"sha256": "k2"}}}) == []
    # ... a direct-care one does
    mine = inputs.fingerprint(direct, "2026-11-01", USED, frames(cohort), {})
    relinked = inputs.fingerprint(direct, "2026-11-01", {**USED, "identity": {
        **USED["identity"], "pseudo_keys.parquet": {"sha256": "k2"}}}, frames(cohort), {})
    assert inputs.changed_parts(mine, relinked) == ["identity.pseudo_keys.parquet"]
    assert inputs.changed_parts(None, mine) == ["no fingerprint recorded"]
