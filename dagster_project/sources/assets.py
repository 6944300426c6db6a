"""One Dagster asset per source table, partitioned by extract date, gated by its GX suite.

The asset is a thin wrapper over `ingest.ingest_partition` (write-audit-publish). Its
checks are reported from the same step: the GX suite (blocking: a failure stops every
downstream step and the partition is not published) and the suite's warnings
(non-blocking, shown in the UI).
"""


import dagster as dg

from dagster_project.lib.audit_who import launched_by
from dagster_project.lib.report_urls import link as report_link
from dagster_project.lib.zones import Zones
from dagster_project.ops.concurrency import raw_pool
from dagster_project.ops.policies import TRANSIENT_RETRY
from dagster_project.resources import PlatformResource
from dagster_project.sources.ingest import IngestResult, ingest_partition
from dagster_project.sources.partitions import PARTITIONS
from dagster_project.sources.registry import TableSpec, load_registry

GATE = "gx_suite"
WARNINGS = "gx_warnings"


def raw_key(spec: TableSpec) -> dg.AssetKey:
    return dg.AssetKey(["raw", spec.source, spec.table])


def _check_results(results: list[IngestResult], zones: Zones) -> list[dg.AssetCheckResult]:
    """The warning and gate verdicts over these extract dates (the last one's details)."""
    failures = [o for r in results if r.suite for o in r.suite.blocking_failures]
    warnings = [o for r in results if r.suite for o in r.suite.warnings]
    last = results[-1]
    return [
        dg.AssetCheckResult(
            check_name=WARNINGS,
            passed=not warnings and not any(r.warnings for r in results),
            severity=dg.AssetCheckSeverity.WARN,
            metadata={**_check_metadata(last, warnings, zones),
                      "reader_warnings": "; ".join(w for r in results for w in r.warnings) or "none"},
        ),
        dg.AssetCheckResult(
            check_name=GATE,
            passed=all(r.published for r in results),
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=_check_metadata(last, failures, zones),
        ),
    ]


def _check_metadata(result: IngestResult, failures, zones: Zones) -> dict:
    meta: dict = {
        "extract_date": result.extract_date,
        "rows": result.rows,
        "failing_expectations": dg.MetadataValue.md(
            "\n".join(f"- **{o.rule}** (`{o.expectation}`): {o.summary()}" for o in failures) or "none"
        ),
    }
    samples = [r for o in failures for r in o.sample_rows][:10]
    if samples:
        meta["sample_rows"] = dg.MetadataValue.json(samples)
    if result.report_path:
        meta["report"] = report_link(zones, result.report_path)  # served by `make ui`
    if result.error:
        meta["error"] = dg.MetadataValue.text(str(result.error))
    return meta


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"


def build_raw_asset(spec: TableSpec) -> dg.AssetsDefinition:
    deps = []
    if spec.source == "gp" and spec.table != "patients":
        deps = [dg.AssetKey(["raw", "gp", "patients"])]  # events are checked against births

    @dg.asset(
        key=raw_key(spec),
        group_name="sources",
        partitions_def=PARTITIONS[spec.source],
        deps=deps,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=raw_pool(spec.source, spec.table),  # one writer per raw table
        retry_policy=TRANSIENT_RETRY,  # I/O glitches; the gate raises Failure(allow_retries=False)
        description=(
            f"{spec.source}.{spec.table} ({spec.kind}) pulled from landing into typed Parquet in "
            f"the raw zone, write-audit-publish, gated by expectations/{spec.suite}.json."
        ),
        owners=["team:data-engineering"],
        kinds={"parquet", "polars"},
        tags={"source": spec.source, "kind": spec.kind},
        check_specs=[  # per extract date: the UI shows each verdict against its partition
            dg.AssetCheckSpec(GATE, asset=raw_key(spec), blocking=True, partitions_def=PARTITIONS[spec.source],
                              description=f"Great Expectations suite {spec.suite}: blocking expectations"),
            dg.AssetCheckSpec(WARNINGS, asset=raw_key(spec), partitions_def=PARTITIONS[spec.source],
                              description=f"Great Expectations suite {spec.suite}: warning expectations"),
        ],
    )
    def _asset(context: dg.AssetExecutionContext, platform: PlatformResource):
        zones = platform.zones
        results: list[IngestResult] = []
        who = launched_by(context.run)
        for extract_date in sorted(context.partition_keys):
            try:
                result = ingest_partition(zones, spec, extract_date, run_id=context.run.run_id,
                                          launched_by=who)
            except OSError:
                raise  # a file share or disk glitch: TRANSIENT_RETRY tries again
            except Exception as exc:  # noqa: BLE001 - anything else is permanent: no retry
                # the message is withheld (it could quote the data); type and place suffice
                raise dg.Failure(
                    description=f"{spec.source}.{spec.table} extract {extract_date}: unexpected "
                    f"{type(exc).__name__} at {_where(exc)}; not retried (a permanent error). "
                    "The message is withheld because it may quote identifying values.",
                    allow_retries=False,
                ) from None
            results.append(result)
            if not result.published:
                break
        warnings = [o for r in results if r.suite for o in r.suite.warnings]
        last = results[-1]
        checks = _check_results(results, zones)
        if len(context.partition_keys) > 1:
            # a backfill of several extract dates in one run (single_run policy): Dagster records
            # the yielded results once, unpartitioned; each date's own verdict goes to its partition
            for result in results:
                for check in _check_results([result], zones):
                    context.log_event(dg.AssetCheckEvaluation(
                        asset_key=raw_key(spec), check_name=check.check_name, passed=check.passed,
                        metadata=check.metadata, severity=check.severity,
                        blocking=check.check_name == GATE, partition=result.extract_date))
        if not last.published:
            # Record the verdicts, then fail: nothing was published, downstream is blocked.
            yield from checks
            raise dg.Failure(
                description=f"Extract stopped at the gate: {last.reason}",
                metadata={"quarantine": dg.MetadataValue.path(str(last.quarantine_path)),
                          "report": report_link(zones, last.report_path)},
                allow_retries=False,
            )
        yield dg.MaterializeResult(
            # the delivered bytes' digests: an unchanged re-run is the same data version
            data_version=dg.DataVersion(",".join(f"{r.extract_date}:{r.sha256}" for r in results)),
            metadata={
                "unchanged": ", ".join(r.extract_date for r in results if r.unchanged) or "none",
                "versions": ", ".join(f"{r.extract_date}: v{r.version}" for r in results),
                "volume_override": dg.MetadataValue.json(
                    [r.volume_override for r in results if r.volume_override]),
                "extract_dates": ", ".join(r.extract_date for r in results),
                "rows": sum(r.rows for r in results),
                "columns": len(last.columns),
                "schema": dg.MetadataValue.md(", ".join(f"`{c}`" for c in last.columns)),
                "unknown_extra_columns": ", ".join(last.extra_columns) or "none",
                "raw_path": dg.MetadataValue.path(str(last.raw_path)),
                "validation_report": report_link(zones, last.report_path),
                "expectations_evaluated": sum(len(r.suite.outcomes) for r in results if r.suite),
                "warnings": len(warnings),
            },
            check_results=checks,
        )

    return _asset


RAW_ASSETS = [build_raw_asset(spec) for spec in load_registry().values()]


def raw_asset_keys(source: str) -> list[dg.AssetKey]:
    return [raw_key(s) for s in load_registry().values() if s.source == source]
