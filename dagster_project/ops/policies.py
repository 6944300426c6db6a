"""Graph-wide policies, applied once (definitions.py), not repeated on every asset.

- Retries with exponential backoff for steps that can fail transiently (file I/O on a
  shared drive, the dbt subprocess). Gate failures are not retried: they raise
  `Failure(allow_retries=False)`, and a blocking check failing is a verdict, not a glitch.
- Freshness: a published cohort release older than its re-publish cycle, or a warehouse
  older than the monthly refresh, shows as stale (WARN, then FAIL) in the UI.
- Automation: the identity, warehouse and cohort assets follow their upstream (declarative
  automation, evaluated by the `downstream_refresh` sensor of ops/refresh.py), with the
  monthly full refresh and the weekly re-publish as cron conditions.
- Owners where an asset names none, so that every node of the graph says who to ask.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=3, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
"""15 s, 30 s, 60 s (plus or minus jitter): enough for a network share or a busy disk."""

SOURCES_GROUP = "sources"
IDENTITY_GROUP = "identity"
COHORTS_GROUP = "cohorts"
PROJECTION_GROUP = "projection"
OUTREACH_GROUP = "outreach"  # the outreach plan follows each new cohort release (outreach/assets.py)
WAREHOUSE_GROUP = "warehouse"
MODEL_KEY = dg.AssetKey(["identity", "linkage_model"])  # trained on demand, never automated
TIMEZONE = "Europe/London"
MONTHLY_FULL_REFRESH = "0 7 3 * *"  # 07:00 on the 3rd, after the 06:00 monthly_ingest_* schedules
WEEKLY_REPUBLISH = "0 7 * * 1"  # Monday 07:00: call lists stay current

# cohorts are re-published weekly (WEEKLY_REPUBLISH): a release a few days past its
# cycle warns, one that missed a whole cycle fails
PUBLISHED_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=9), warn_window=timedelta(days=8))
# the warehouse is rebuilt after each monthly extract (MONTHLY_FULL_REFRESH)
WAREHOUSE_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=35), warn_window=timedelta(days=32))

WAITING = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.QUEUED,
           dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def chain_busy(instance: dg.DagsterInstance) -> list[str]:
    """Runs that write the chain (any job but a hand-run model training), queued or in flight."""
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=WAITING), limit=50)
    return [f"{r.job_name} ({r.run_id[:8]})" for r in runs if r.job_name != "train_linkage_model"]


class ChainIdle(dg.AutomationCondition):
    """True when no run of the chain is queued or in flight: a month of extracts landing
    together (several ingest runs) links and builds once, after the last of them."""

    @property
    def name(self) -> str:
        return "chain_idle"

    @property
    def description(self) -> str:
        return "no ingest, refresh or publish run is queued or in flight"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        # last in every AND: most ticks nothing is a candidate, and then nothing is asked
        if context.candidate_subset.is_empty:
            return dg.AutomationResult(context, true_subset=context.get_empty_subset())
        idle = not _busy_at(context.asset_graph_view.instance, context.evaluation_time)
        return dg.AutomationResult(
            context, true_subset=context.candidate_subset if idle else context.get_empty_subset())


# one run-storage query per tick, not one per asset: every asset evaluated on a tick shares
# the tick's evaluation_time (the newest tick only is kept)
_BUSY: dict[tuple[int, object], bool] = {}


def _busy_at(instance: dg.DagsterInstance, evaluation_time) -> bool:
    key = (id(instance), evaluation_time)
    if key not in _BUSY:
        _BUSY.clear()
        _BUSY[key] = bool(chain_busy(instance))
    return _BUSY[key]


def chain_condition(cron: str, timezone: str) -> dg.AutomationCondition:
    """Identity and warehouse: any dependency updated, or the monthly full-refresh tick."""
    trigger = (dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()
               | dg.AutomationCondition.cron_tick_passed(cron, timezone))
    return (trigger.since_last_handled()
            & ~dg.AutomationCondition.in_progress() & ChainIdle()).with_label("refresh_chain")


def release_condition(cron: str | None, timezone: str) -> dg.AutomationCondition:
    """Releases and reports read from the warehouse: a dependency has *been* updated (not
    just requested: never racing the build they read), or the cron tick (if any)."""
    trigger = dg.AutomationCondition.any_deps_match(
        dg.AutomationCondition.newly_updated()).with_label("any_deps_newly_updated")
    if cron:
        trigger = trigger | dg.AutomationCondition.cron_tick_passed(cron, timezone)
    return (trigger.since_last_handled()
            & ~dg.AutomationCondition.any_deps_match(dg.AutomationCondition.will_be_requested())
            & ~dg.AutomationCondition.in_progress() & ChainIdle()).with_label("republish")


AUTOMATION_BY_GROUP = {
    IDENTITY_GROUP: chain_condition(MONTHLY_FULL_REFRESH, TIMEZONE),
    WAREHOUSE_GROUP: chain_condition(MONTHLY_FULL_REFRESH, TIMEZONE),
    COHORTS_GROUP: release_condition(WEEKLY_REPUBLISH, TIMEZONE),
    PROJECTION_GROUP: release_condition(None, TIMEZONE),
    OUTREACH_GROUP: release_condition(None, TIMEZONE),
}

FRESHNESS_BY_GROUP = {COHORTS_GROUP: PUBLISHED_FRESHNESS, WAREHOUSE_GROUP: WAREHOUSE_FRESHNESS}
OWNERS_BY_GROUP = {
    SOURCES_GROUP: ["team:data-engineering"],
    IDENTITY_GROUP: ["team:data-engineering"],
    WAREHOUSE_GROUP: ["team:analytics"],
    COHORTS_GROUP: ["team:population-health"],
    PROJECTION_GROUP: ["team:population-health"],
    OUTREACH_GROUP: ["team:population-health"],
    "risk": ["team:analytics"],  # risk_model: the risk coefficients refit (warehouse/calibration.py)
}


def area(group_name: str | None) -> str:
    """The area of a group: `warehouse_marts` -> `warehouse` (dbt layers are groups)."""
    return (group_name or "").split("_")[0]


def with_operational_policy(spec: dg.AssetSpec) -> dg.AssetSpec:
    """One asset's automation condition, freshness policy and default owners, by its area."""
    group = area(spec.group_name)
    condition = AUTOMATION_BY_GROUP.get(group)
    if condition is not None and spec.key != MODEL_KEY and spec.automation_condition is None:
        spec = spec.replace_attributes(automation_condition=condition)
    policy = FRESHNESS_BY_GROUP.get(group)
    if policy is not None and spec.freshness_policy is None:
        spec = dg.apply_freshness_policy(spec, policy)
    if not spec.owners and group in OWNERS_BY_GROUP:
        spec = spec.replace_attributes(owners=OWNERS_BY_GROUP[group])
    return spec


def apply_operational_policies(defs: dg.Definitions) -> dg.Definitions:
    """The definitions with automation, freshness and owners applied to every asset by area."""
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
