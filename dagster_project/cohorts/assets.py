"""Dagster assets of the cohorts area (thin wrappers over `contacts` and `publish`).

- `identity/contact_details` (group identity): contact details per GP record, restricted zone;
- `cohorts/release` (group cohorts): one static partition per Protect NoW project of
  projects.yaml; materialising a partition publishes that project's release as of the
  warehouse's reference date (re-publishing one project is a backfill of one partition and
  leaves the others untouched). A failed gate fails the run and leaves `latest` in place.
"""

import dagster as dg
import polars as pl

from dagster_project.cohorts import contacts, publish
from dagster_project.cohorts.registry import load_projects
from dagster_project.ops.concurrency import IDENTITY_POOL, WAREHOUSE_POOL
from dagster_project.resources import PlatformResource
from dagster_project.sources.assets import raw_key
from dagster_project.sources.registry import load_registry

GROUP = "cohorts"
PROJECTS = load_projects()
PROJECT_PARTITIONS = dg.StaticPartitionsDefinition(list(PROJECTS))
CONTACT_DETAILS = dg.AssetKey(["identity", "contact_details"])
RELEASE = dg.AssetKey(["cohorts", "release"])
WAREHOUSE_DEPS = sorted({m for p in PROJECTS.values() for m in (p.model, p.evidence_model)}
                        | {"int_cohort_population", "mart_risk", "mart_segmentation", "stg_reference__practices"})


@dg.asset(
    key=CONTACT_DETAILS,
    group_name="identity",
    deps=[raw_key(load_registry()["gp__patients"]), raw_key(load_registry()["gp__registrations"])],
    description=(
        "NHS number, names and phone per GP record (newest published gp.patients) with the start "
        "of its open registration: the only source of identifiers for direct-care call lists. "
        "Restricted identity zone; never read by the warehouse."
    ),
    owners=["team:information-governance"],
    kinds={"polars", "parquet"},
    pool=IDENTITY_POOL,
)
def contact_details(platform: PlatformResource) -> dg.MaterializeResult:
    details = contacts.build_contact_details(platform.zones)
    return dg.MaterializeResult(metadata={
        "records": details.height,
        "without_valid_nhs_number": int((~details["nhs_number_valid"]).sum()),
        "path": dg.MetadataValue.path(str(platform.zones.identity / contacts.CONTACT_DETAILS)),
    })


def _gates_md(gates: list[publish.GateResult]) -> dg.MetadataValue:
    rows = "".join(f"| {g.gate} | {'passed' if g.passed else 'FAILED'} | {g.detail} |\n" for g in gates)
    return dg.MetadataValue.md("| gate | result | detail |\n|---|---|---|\n" + rows)


@dg.asset(
    key=RELEASE,
    group_name=GROUP,
    partitions_def=PROJECT_PARTITIONS,
    deps=[dg.AssetKey(["warehouse", m]) for m in WAREHOUSE_DEPS]
    + [CONTACT_DETAILS, dg.AssetKey(["identity", "pseudo_keys"]), dg.AssetKey(["identity", "opt_outs"])],
    description=(
        "The Protect NoW release of one project (partition = project id, projects.yaml): "
        "pseudonymised cohort with stratum and priority rank within practice, evidence, "
        "suppressed summary and HTML report under published/<project>/<run_date>/, direct-care "
        "call lists for approved practices, gated (Great Expectations, identifier scan, opt-outs, "
        "suppression, call lists) before latest.json moves; every release in the audit log."
    ),
    owners=["team:population-health"],
    kinds={"duckdb", "parquet", "html"},
    pool=WAREHOUSE_POOL,  # a reader of warehouse.duckdb: not while dbt writes it
)
def cohort_release(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    project = PROJECTS[context.partition_key]
    try:
        release = publish.publish_project(platform.zones, project, run_id=context.run_id)
    except publish.ReleaseBlocked as blocked:
        raise dg.Failure(description=str(blocked), allow_retries=False, metadata={
            "failed_gates": _gates_md(blocked.failed), "staged_files": dg.MetadataValue.path(str(blocked.where))}) from blocked
    summary = pl.read_csv(release.path / "summary.csv", infer_schema_length=0)
    by_imd = summary.filter(pl.col("dimension") == "imd_quintile")
    return dg.MaterializeResult(metadata={
        "run_date": release.run_date,
        "cohort_rows": release.cohort_rows,
        "core20_share": round(release.core20_share, 4),
        "report": dg.MetadataValue.path(str(release.report)),
        "report_url": dg.MetadataValue.url(release.report.as_uri()),
        "release": dg.MetadataValue.path(str(release.path)),
        "direct_care_practices": len(release.practices_with_call_lists),
        "call_list_rows": release.call_list_rows,
        "gates": _gates_md(release.gates),
        "cohort_by_imd_quintile": dg.MetadataValue.md(
            "| IMD quintile | cohort | per 1,000 |\n|---|---|---|\n" + "".join(
                f"| {r['group']} | {r['cohort']} | {r['cohort_per_1000']} |\n" for r in by_imd.iter_rows(named=True))),
    })


# the `publish_cohorts` job (one run per project partition) is built from the `cohorts`
# group by dagster_project/ops/refresh.py
COHORT_ASSETS = [contact_details, cohort_release]
