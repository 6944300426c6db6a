"""Graph-wide policies, applied once (definitions.py), not repeated on every asset.

- Retries with exponential backoff for steps that can fail transiently (file I/O on a
  shared drive, the dbt subprocess). Gate failures are not retried: they raise
  `Failure(allow_retries=False)`, and a blocking check failing is a verdict, not a glitch.
- Freshness: a published cohort release older than its re-publish cycle, or a warehouse
  older than the monthly refresh, shows as stale (WARN, then FAIL) in the UI.
- Owners where an asset names none, so that every node of the graph says who to ask.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=3, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
"""15 s, 30 s, 60 s (plus or minus jitter): enough for a network share or a busy disk."""

COHORTS_GROUP = "cohorts"
WAREHOUSE_GROUP = "warehouse"

# cohorts are re-published weekly (weekly_republish_cohorts): a release a few days past its
# cycle warns, one that missed a whole cycle fails
PUBLISHED_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=9), warn_window=timedelta(days=8))
# the warehouse is rebuilt after each monthly extract (monthly_full_refresh)
WAREHOUSE_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=35), warn_window=timedelta(days=32))

FRESHNESS_BY_GROUP = {COHORTS_GROUP: PUBLISHED_FRESHNESS, WAREHOUSE_GROUP: WAREHOUSE_FRESHNESS}
OWNERS_BY_GROUP = {
    "sources": ["team:data-engineering"],
    "identity": ["team:data-engineering"],
    WAREHOUSE_GROUP: ["team:analytics"],
    COHORTS_GROUP: ["team:population-health"],
}


def with_operational_policy(spec: dg.AssetSpec) -> dg.AssetSpec:
    """One asset's freshness policy and default owners, by its group."""
    policy = FRESHNESS_BY_GROUP.get(spec.group_name or "")
    if policy is not None and spec.freshness_policy is None:
        spec = dg.apply_freshness_policy(spec, policy)
    if not spec.owners and spec.group_name in OWNERS_BY_GROUP:
        spec = spec.replace_attributes(owners=OWNERS_BY_GROUP[spec.group_name])
    return spec


def apply_operational_policies(defs: dg.Definitions) -> dg.Definitions:
    """The definitions with freshness and owners applied to every asset by group."""
    return defs.map_asset_specs(func=with_operational_policy)


def raise_unless_dbt_succeeded(invocation) -> None:
    """After `dbt build` ran with raise_on_error=False: fail the step if dbt failed.

    A failing dbt test is a verdict on the data: `Failure(allow_retries=False)`, never
    retried. Anything else (a model erroring on I/O, the subprocess dying) raises a plain
    error, which TRANSIENT_RETRY retries with backoff.
    """
    if invocation.is_successful():
        return
    try:
        results = invocation.get_artifact("run_results.json").get("results", [])
    except Exception:  # noqa: BLE001 - no run results: dbt died before writing them
        results = []
    failed_tests = [r["unique_id"] for r in results if r.get("status") == "fail"]
    if failed_tests:
        raise dg.Failure(
            description=f"dbt tests failed (blocking): {', '.join(failed_tests[:10])}",
            metadata={"failed_tests": len(failed_tests)}, allow_retries=False)
    errors = [f"{r['unique_id']}: {r.get('message')}" for r in results if r.get("status") == "error"]
    raise RuntimeError("dbt build failed: " + ("; ".join(errors[:5]) or "no run results (dbt crashed?)"))
