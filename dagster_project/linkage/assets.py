"""Identity zone assets: thin wrappers over `pipeline` (prepare, train, index, pseudonymise)."""

import dagster as dg
import polars as pl
import pydantic

from dagster_project.lib.report_urls import link as report_link
from dagster_project.linkage import pipeline
from dagster_project.linkage.resources import LinkageBackendResource, PseudonymisationKey
from dagster_project.ops.concurrency import IDENTITY_POOL
from dagster_project.ops.policies import TRANSIENT_RETRY
from dagster_project.resources import PlatformResource
from dagster_project.sources.assets import raw_key
from dagster_project.sources.registry import load_registry

GROUP = "identity"
PERSON_RECORDS = dg.AssetKey(["identity", "person_records"])
MODEL = dg.AssetKey(["identity", "linkage_model"])
PERSON_INDEX = dg.AssetKey(["identity", "person_index"])
PSEUDO_KEYS = dg.AssetKey(["identity", "pseudo_keys"])
OPT_OUTS = dg.AssetKey(["identity", "opt_outs"])
REVIEW_QUEUE = dg.AssetKey(["identity", "review_queue"])

# Accuracy floor against a ground truth (synthetic data): below it the index does not
# reach the warehouse.
MIN_PRECISION = 0.995
MIN_RECALL = 0.99


def _md(frame: pl.DataFrame) -> dg.MetadataValue:
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    rows = "".join("| " + " | ".join(str(v) for v in row) + " |\n" for row in frame.iter_rows())
    return dg.MetadataValue.md(header + rows)


@dg.asset(
    key=PERSON_RECORDS,
    group_name=GROUP,
    retry_policy=TRANSIENT_RETRY,
    pool=IDENTITY_POOL,
    deps=[raw_key(s) for s in load_registry().values() if s.person_level],
    description=(
        "Identity fields of every person-level record visible downstream, cleaned (names and "
        "postcodes normalised; NHS numbers failing modulus 11 set to missing and flagged; sex U "
        "unknown), and their distinct identity profiles (the linkage input). Restricted zone."
    ),
    owners=["team:data-engineering"],
    kinds={"polars", "parquet"},
)
def person_records(platform: PlatformResource) -> dg.MaterializeResult:
    facts = pipeline.prepare(platform.zones)
    return dg.MaterializeResult(metadata={
        "records": facts["records"],
        "profiles": facts["profiles"],
        "by_source": _md(facts["by_source"]),
        "path": dg.MetadataValue.path(str(platform.zones.identity / pipeline.RECORDS)),
    })


@dg.asset(
    key=MODEL,
    group_name=GROUP,
    pool=IDENTITY_POOL,
    deps=[PERSON_RECORDS],
    description=(
        "Train the Splink person model without labels (u by random sampling, m by EM) and save "
        "it as versioned JSON under identity/models/. Run on demand (job `train_linkage_model`); "
        "scheduled refreshes only score with the newest model."
    ),
    owners=["team:data-engineering"],
    kinds={"splink", "duckdb"},
)
def linkage_model(platform: PlatformResource, linkage: LinkageBackendResource) -> dg.MaterializeResult:
    model, path = pipeline.train_model(platform.zones, backend=linkage.backend())
    meta = model.metadata
    return dg.MaterializeResult(metadata={
        "model": dg.MetadataValue.path(str(path)),
        "trained_at": meta["trained_at"],
        "splink_version": meta["splink_version"],
        "duckdb_version": meta["duckdb_version"],
        "backend": meta["backend"],
        "profiles": meta["profiles"],
        "blocking_analysis": _md(pl.DataFrame(meta["blocking_analysis"])),
    })


class PersonIndexConfig(dg.Config):
    """Run config of the person index (launchpad: `ops: identity__person_index: config:`)."""

    full_relink: bool = pydantic.Field(
        default=False,
        description="Score every pair of identity profiles with Splink, not only those touching profiles new or "
                    "changed since the last run (a refresh relinks in full by itself when the model, prior, blocking "
                    "rules, threshold or profile preparation changed, or no stored pairs exist).")


@dg.asset(
    key=PERSON_INDEX,
    group_name=GROUP,
    pool=IDENTITY_POOL,
    deps=[PERSON_RECORDS, MODEL],
    description=(
        "Score pairs of identity profiles with the Splink model, cluster at the match threshold, "
        "and give every record a person id that is stable across refreshes (merges and splits "
        "logged in identity/person_index_changes.parquet). Incremental: only pairs touching profiles "
        "new or changed since the last run are scored, the rest carried over (identity/linkage_state/); "
        "run config full_relink: true scores every pair."
    ),
    owners=["team:data-engineering"],
    kinds={"splink", "duckdb", "parquet"},
    check_specs=[
        dg.AssetCheckSpec("accuracy_against_truth", asset=PERSON_INDEX, blocking=True,
                          description=f"Pairwise precision >= {MIN_PRECISION} and recall >= {MIN_RECALL} "
                                      "against the ground truth where one exists (synthetic data)"),
        dg.AssetCheckSpec("cluster_sizes", asset=PERSON_INDEX, blocking=True,
                          description="No implausibly large person: a runaway cluster means a bad model"),
    ],
)
def person_index(context: dg.AssetExecutionContext, config: PersonIndexConfig, platform: PlatformResource,
                 linkage: LinkageBackendResource):
    zones = platform.zones
    result = pipeline.build_person_index(zones, backend=linkage.backend(), full_relink=config.full_relink)
    context.log.info(f"linkage {result.mode}: {result.mode_reason}")
    cleaned = pl.read_parquet(zones.identity / pipeline.RECORDS)
    q = pipeline.quality(result.person_index, cleaned)
    events = result.changes.group_by("event").len().sort("event")
    accuracy = pipeline.evaluate(zones)
    meta = {
        "people": q["people"],
        "records": q["records"],
        "pairs_scored": result.pairs,
        "linkage_mode": result.mode,
        "linkage_mode_reason": result.mode_reason,
        "pairs_scored_this_run": result.pairs_scored_now,
        **{f"incremental_{k}": (round(v, 6) if isinstance(v, float) else v) for k, v in result.facts.items()},
        "pairs_for_review": result.review_pairs,
        "review_decisions_applied": result.decisions_applied,
        "bridges_held_apart": result.held_apart,
        "model": dg.MetadataValue.path(str(result.model_path)),
        "cluster_size_distribution": _md(q["cluster_sizes"]),
        "records_linked_per_source": _md(q["per_source"]),
        "changes_this_refresh": _md(events) if events.height else "none",
        "chart_match_weights": report_link(zones, result.charts / "match_weights.html"),
        "chart_m_u_parameters": report_link(zones, result.charts / "m_u_parameters.html"),
        "chart_waterfall_sample": dg.MetadataValue.path(str(result.charts / "waterfall_sample.html")),
        "path": dg.MetadataValue.path(str(zones.identity / pipeline.PERSON_INDEX)),
    }
    if accuracy:
        table = pl.DataFrame([{"method": k, **v} for k, v in accuracy.items()])
        meta["accuracy_vs_truth"] = _md(table)
        ok = accuracy["splink"]["precision"] >= MIN_PRECISION and accuracy["splink"]["recall"] >= MIN_RECALL
        accuracy_check = dg.AssetCheckResult(
            check_name="accuracy_against_truth", passed=ok, metadata={
                "splink_precision": accuracy["splink"]["precision"],
                "splink_recall": accuracy["splink"]["recall"],
                "splink_recall_without_valid_nhs_number": accuracy["splink"]["recall_without_valid_nhs_number"],
                "nhs_only_precision": accuracy["nhs_number_only"]["precision"],
                "nhs_only_recall": accuracy["nhs_number_only"]["recall"],
            })
    else:
        accuracy_check = dg.AssetCheckResult(
            check_name="accuracy_against_truth", passed=True,
            metadata={"note": "no ground truth in this data directory (real data): not evaluated"})
    # a person with hundreds of records is plausible (outpatient follow-ups); thousands is not
    size_check = dg.AssetCheckResult(
        check_name="cluster_sizes", passed=q["largest_person_records"] <= 2000,
        metadata={"largest_person_records": q["largest_person_records"]})
    return dg.MaterializeResult(metadata=meta, check_results=[accuracy_check, size_check])


@dg.asset(
    key=PSEUDO_KEYS,
    group_name=GROUP,
    retry_policy=TRANSIENT_RETRY,
    pool=IDENTITY_POOL,
    deps=[PERSON_INDEX],
    description=(
        "Record keys mapped to pseudo_id = HMAC-SHA256(PHM_PSEUDO_KEY, person_id): the only "
        "bridge from the identity zone to the warehouse. Carries no identifier."
    ),
    owners=["team:data-engineering"],
    kinds={"parquet"},
)
def pseudo_keys(platform: PlatformResource, pseudonymisation: PseudonymisationKey) -> dg.MaterializeResult:
    facts = pipeline.pseudonymise_index(platform.zones, pseudonymisation.as_bytes())
    return dg.MaterializeResult(metadata={
        **facts, "path": dg.MetadataValue.path(str(platform.zones.identity / pipeline.PSEUDO_KEYS))})


@dg.asset(
    key=OPT_OUTS,
    group_name=GROUP,
    retry_policy=TRANSIENT_RETRY,
    pool=IDENTITY_POOL,
    deps=[PSEUDO_KEYS, raw_key(load_registry()["opt_out__national_data_opt_out"])],
    description=(
        "Pseudo ids of people with a national data opt-out: any of the person's linked records "
        "carries an NHS number on the opt-out list. The warehouse excludes them from cohorts."
    ),
    owners=["team:information-governance"],
    kinds={"parquet"},
)
def opt_outs(platform: PlatformResource) -> dg.MaterializeResult:
    facts = pipeline.apply_opt_outs(platform.zones)
    return dg.MaterializeResult(metadata={
        **facts, "path": dg.MetadataValue.path(str(platform.zones.identity / pipeline.OPT_OUTS))})


@dg.asset(
    key=REVIEW_QUEUE,
    group_name=GROUP,
    pool=IDENTITY_POOL,
    deps=[PERSON_INDEX],
    description=(
        "Clerical review queue: pairs of identity profiles whose match probability lies in the grey "
        "zone (PHM_REVIEW_LOW <= p < PHM_REVIEW_HIGH, default 0.8-0.995), each with its evidence (the "
        "level and match weight of every comparison, both profiles' identity fields). Written by the "
        "person index run to identity/review_queue.parquet (restricted zone: it holds identifiers). "
        "Reviewers' decisions (CSV: pair_id,decision,reviewer,reason; decision same|different) "
        "dropped in identity/review_decisions/ become must-link/cannot-link constraints on the next "
        "run, each applied decision audited in identity/review_audit.parquet."
    ),
    owners=["team:data-engineering"],
    kinds={"parquet"},
)
def review_queue(platform: PlatformResource) -> dg.MaterializeResult:
    from dagster_project.linkage import review

    zones = platform.zones
    path = zones.identity / pipeline.REVIEW_QUEUE
    queue = pl.read_parquet(path) if path.exists() else pl.DataFrame()
    zone = review.ReviewZone.from_env()
    audit_path = zones.identity / pipeline.REVIEW_AUDIT
    audit = pl.read_parquet(audit_path) if audit_path.exists() else None
    # counts only in metadata: the queue itself holds identifiers and stays in the zone
    return dg.MaterializeResult(metadata={
        "pairs_to_review": queue.height,
        # bridges clustering did not follow (one record matching two NHS numbers' people)
        "held_apart_pairs": int(queue["held_apart"].sum()) if "held_apart" in queue.columns else 0,
        "zone_low": zone.low,
        "zone_high": zone.high,
        "decisions_applied_ever": audit.height if audit is not None else 0,
        "decisions_by_effect": _md(audit.group_by("effect").len().sort("effect")) if audit is not None else "none",
        "path": dg.MetadataValue.path(str(path)),
    })


IDENTITY_ASSETS = [person_records, linkage_model, person_index, pseudo_keys, opt_outs, review_queue]
REFRESH_SELECTION = dg.AssetSelection.assets(PERSON_RECORDS, PERSON_INDEX, PSEUDO_KEYS, OPT_OUTS, REVIEW_QUEUE)

link_people_job = dg.define_asset_job(
    "link_people", selection=REFRESH_SELECTION,
    description="Score, cluster and pseudonymise with the current model (no training).")
train_linkage_model_job = dg.define_asset_job(
    "train_linkage_model", selection=dg.AssetSelection.assets(PERSON_RECORDS, MODEL),
    description="Retrain the Splink person model on the current records (on demand).")
