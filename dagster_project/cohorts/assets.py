"""Dagster assets of the cohorts area (thin wrappers over `contacts` and `publish`).

- `identity/contact_details` (group identity): contact details per GP record, restricted zone;
- `cohorts/release` (group cohorts): one static partition per Protect NoW project of
  projects.yaml; materialising a partition publishes that project's release as of the
  warehouse's reference date (re-publishing one project is a backfill of one partition and
  leaves the others untouched). A failed gate fails the run and leaves `latest` in place.
  A project whose inputs did not change since its latest release is not published again
  (the run logs "unchanged since release ...", materialises nothing and its checks repeat
  that release's gate verdicts); run config
  `{"ops": {"cohorts__release": {"config": {"force": true}}}}` republishes it anyway.
"""

import dagster as dg
import polars as pl

from dagster_project.cohorts import contacts, publish
from dagster_project.cohorts.registry import load_projects
from dagster_project.lib.audit_who import launched_by
from dagster_project.lib.report_urls import link as report_link
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


class ReleaseConfig(dg.Config):
    force: bool = False  # publish even when nothing the release reads changed since the last one


# The release gates (cohorts/publish.py run_gates), each a blocking asset check of the
# project's partition: the UI's checks tab shows every verdict, and a failed gate fails the
# step with the gate's verdict. Write-audit-publish: the gates run on the staged release,
# so a failure leaves latest.json and the earlier releases untouched.
RELEASE_GATES = {
    "great_expectations": "The cohort_release Great Expectations suite passes on the staged cohort",
    "no_direct_identifiers": "No identifier-like column or value in any pseudonymised file",
    "no_opted_out_people": "No person with a national data opt-out is in the cohort",
    "small_numbers_suppressed": "Summary counts below the project's threshold are suppressed",
    "no_suppressed_cell_recoverable": "No suppressed count can be derived from totals or other breakdowns (cohorts/disclosure.py)",
    "reidentification_approved": "Re-identified call lists carry an approval reference and purpose",
    "call_lists_match_cohort": "Each direct-care call list matches the cohort, one row per cohort row",
}


def _gates_md(gates: list[publish.GateResult]) -> dg.MetadataValue:
    rows = "".join(f"| {g.gate} | {'passed' if g.passed else 'FAILED'} | {g.detail} |\n" for g in gates)
    return dg.MetadataValue.md("| gate | result | detail |\n|---|---|---|\n" + rows)


def gate_checks(gates: list[publish.GateResult], staged: str, **extra: str) -> list[dg.AssetCheckResult]:
    """One check result per declared gate (a gate the registry adds shows in `gates` metadata)."""
    by_name = {g.gate: g for g in gates}
    return [dg.AssetCheckResult(
        check_name=name, asset_key=RELEASE, passed=by_name[name].passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=by_name[name].detail,
        metadata={"verdict": by_name[name].detail, "release": staged, **extra})
        for name in RELEASE_GATES if name in by_name]


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
        "call lists for approved practices, gated (blocking checks: Great Expectations, "
        "identifier scan, opt-outs, suppression, call lists) before latest.json moves; every "
        "release in the audit log."
    ),
    owners=["team:population-health"],
    kinds={"duckdb", "parquet", "html"},
    pool=WAREHOUSE_POOL,  # a reader of warehouse.duckdb: not while dbt writes it
    check_specs=[dg.AssetCheckSpec(name, asset=RELEASE, blocking=True, description=text,
                                   partitions_def=PROJECT_PARTITIONS)
                 for name, text in RELEASE_GATES.items()],
    output_required=False,  # a blocked release materialises nothing: latest does not move
)
def cohort_release(context: dg.AssetExecutionContext, config: ReleaseConfig, platform: PlatformResource):
    project = PROJECTS[context.partition_key]
    try:
        release = publish.publish_project(platform.zones, project, run_id=context.run_id,
                                          who=launched_by(context.run), force=config.force)
    except publish.ReleaseBlocked as blocked:
        # the verdict, not a stack trace: the failed blocking checks fail the step
        context.log.error(f"release of {project.id} blocked by its gates; latest unchanged; "
                          f"staged files kept in {blocked.where}")
        yield from gate_checks(blocked.gates, str(blocked.where))
        return
    if release.unchanged_since:
        context.log.info(f"{project.id}: unchanged since release {release.unchanged_since}: not republished "
                         "(nothing it reads changed; run config force: true republishes it)")
        # no materialisation; the checks report the verdicts of the release that stays current
        yield from gate_checks(release.gates, str(release.path), unchanged_since=release.unchanged_since)
        return
    summary = pl.read_csv(release.path / "summary.csv", infer_schema_length=0)
    by_imd = summary.filter(pl.col("dimension") == "imd_quintile")
    yield dg.MaterializeResult(metadata={
        "run_date": release.run_date,
        "cohort_rows": release.cohort_rows,
        "core20_share": round(release.core20_share, 4),
        "report": report_link(platform.zones, release.report),  # served by `make ui`
        "release": dg.MetadataValue.path(str(release.path)),
        "direct_care_practices": len(release.practices_with_call_lists),
        "call_list_rows": release.call_list_rows,
        "gates": _gates_md(release.gates),
        "cohort_by_imd_quintile": dg.MetadataValue.md(
            "| IMD quintile | cohort | per 1,000 |\n|---|---|---|\n" + "".join(
                f"| {r['group']} | {r['cohort']} | {r['cohort_per_1000']} |\n" for r in by_imd.iter_rows(named=True))),
    }, check_results=gate_checks(release.gates, str(release.path)))


# the `publish_cohorts` job (one run per project partition) is built from the `cohorts`
# group by dagster_project/ops/refresh.py
COHORT_ASSETS = [contact_details, cohort_release]
