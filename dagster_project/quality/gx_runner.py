"""Run a Great Expectations suite with GX itself, over pandas batches: the reference path.

Production validates in polars (`engine.run_suite`, the whole extract in one pass); this
runner is kept as the reference the engine is tested against (the same suites and frames
give the same counts, verdicts and sample rows) and to time GX on the same data
(benchmarks/bench_ingest.py).

GX 1.x has no DuckDB or polars data source, so each batch is handed to GX as a pandas
frame (numpy dtypes, datetimes at ns resolution, which keeps GX on its vectorised paths).
Row-level (map) expectations are summed across batches, so no row is skipped and `mostly`
thresholds apply to the whole extract. Table-level row counts are evaluated on the whole
extract.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache

import polars as pl
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)

from dagster_project.quality.suite import (
    ROW_COUNT,
    SuiteOutcome,
    accumulate,
    finish,
    gx,
    parse_suite,
    row_count_outcome,
)

logging.getLogger("great_expectations").setLevel(logging.ERROR)

BATCH_ROWS = 1_000_000  # pandas object strings cost ~10x Arrow: keep batches small


@lru_cache(maxsize=1)
def _batch_definition():  # one ephemeral context per process: creating one costs ~0.5 s
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas("extracts").add_dataframe_asset("extract")
    return asset.add_batch_definition_whole_dataframe("whole")


def _to_pandas(frame: pl.DataFrame):
    # pandas datetimes at ns resolution span 1677-2262: clip wilder dates (a year 3024 typo)
    # into that range so they are still judged "in the future" rather than crashing.
    dates = [n for n, t in frame.schema.items() if t == pl.Date or isinstance(t, pl.Datetime)]
    frame = frame.with_columns(
        pl.col(n).clip(dt.date(1678, 1, 1), dt.date(2261, 12, 31)) for n in dates
    )
    pdf = frame.to_pandas(use_pyarrow_extension_array=False)
    for name, dtype in frame.schema.items():
        if dtype == pl.Date or isinstance(dtype, pl.Datetime):
            pdf[name] = pdf[name].astype("datetime64[ns]")
    return pdf


def _is_row_level(expectation) -> bool:
    return isinstance(
        expectation, ColumnMapExpectation | ColumnPairMapExpectation | MulticolumnMapExpectation
    )


def run_suite_gx(
    frame: pl.DataFrame,
    suite_doc: dict,
    parameters: dict | None = None,
    batch_rows: int = BATCH_ROWS,
    sample_columns: list[str] | None = None,
    rate_block_min_rows: int = 0,
) -> SuiteOutcome:
    """Validate `frame` against the suite with GX; row-level results summed over batches."""
    parameters = parameters or {}
    suite = parse_suite(suite_doc)
    row_level = [e for e in suite.expectations if _is_row_level(e)]
    table_level = [e for e in suite.expectations if not _is_row_level(e)]
    row_count_rules = [e for e in table_level if e.expectation_type == ROW_COUNT]
    other_table = [e for e in table_level if e not in row_count_rules]

    position = {id(e): i for i, e in enumerate(suite.expectations)}
    row_columns = {c for e in row_level for c in _columns_of(e)}
    totals: dict[int, dict] = {}
    batches = max(1, -(-frame.height // batch_rows))
    definition = _batch_definition()
    for b in range(batches):
        offset = b * batch_rows
        part = frame.slice(offset, batch_rows)
        expectations = row_level + (other_table if b == 0 else [e for e in other_table if _aggregate_ok(e)])
        if not expectations:
            continue
        tagged = []
        for e in expectations:  # GX may reorder results: tag each with its suite position
            copy = e.copy()
            copy.meta = {**(e.meta or {}), "_index": position[id(e)]}
            tagged.append(copy)
        batch_suite = gx.ExpectationSuite(name=suite.name, expectations=tagged)
        # GX sees only the columns its row-level expectations read (after the first batch,
        # which also carries every column for the table-level ones): less pandas memory
        columns = part.columns if b == 0 else [c for c in part.columns if c in row_columns]
        batch = definition.get_batch(batch_parameters={"dataframe": _to_pandas(part.select(columns))})
        result = batch.validate(batch_suite, expectation_parameters=parameters, result_format="SUMMARY")
        for res in result.results:
            index = int(res.expectation_config.meta["_index"])
            total = totals.setdefault(index, {"exp": suite.expectations[index]})
            accumulate(total, res, part, offset, sample_columns)
    outcomes = [finish(totals[i], frame.height, parameters, rate_block_min_rows) for i in sorted(totals)]
    outcomes += [row_count_outcome(e, frame.height, parameters) for e in row_count_rules]
    return SuiteOutcome(suite=suite.name, rows=frame.height, batches=batches, outcomes=outcomes,
                        engine="gx-pandas")


def _columns_of(expectation) -> list[str]:
    kwargs = expectation.configuration.kwargs
    cols = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")]
    return [c for c in cols if c] + list(kwargs.get("column_list") or [])


def _aggregate_ok(expectation) -> bool:
    """Column aggregates such as max/min hold for the whole iff they hold for every batch."""
    return expectation.expectation_type.startswith(("expect_column_max", "expect_column_min"))
