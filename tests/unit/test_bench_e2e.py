"""benchmarks/bench_e2e.py reads stage times from a run's own Dagster event log."""

import importlib.util
import sys
import time
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("bench_e2e", ROOT / "benchmarks" / "bench_e2e.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dg.asset(key=["identity", "person_index"])
def person_index():
    time.sleep(0.2)
    return 1


@dg.asset(key=["warehouse", "dim_person"], deps=[person_index])
def warehouse_dbt():
    time.sleep(0.1)
    return 2


def test_run_timings_and_rows_from_the_event_log():
    bench = _bench()
    job = dg.define_asset_job("refresh_warehouse", selection=[person_index, warehouse_dbt])
    defs = dg.Definitions(assets=[person_index, warehouse_dbt], jobs=[job])
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("refresh_warehouse").execute_in_process(instance=instance)
        timing = bench.run_timings(instance, result.run_id)
    assert timing["status"] == "SUCCESS" and timing["end"] > timing["start"]
    steps = timing["steps"]
    assert steps["identity__person_index"]["assets"] == {"identity"}
    assert steps["identity__person_index"]["end"] - steps["identity__person_index"]["start"] >= 0.2
    assert bench.step_row("identity__person_index", steps["identity__person_index"]) == "linkage"
    assert bench.step_row("warehouse__dim_person", steps["warehouse__dim_person"]) == "dbt_build"
    # the production dbt step (one @dbt_assets op) by name; anything else is refresh_other
    assert bench.step_row("warehouse_dbt", {"assets": {"warehouse"}}) == "dbt_build"
    assert bench.step_row("projection__report", {"assets": {"projection"}}) == "refresh_other"
    # rows: step durations, with peak memory and CPU from a sampler's window
    sampler = bench.TreeSampler(0)
    sampler.samples = [(timing["start"] - 1, 2**30, 0.0), (timing["end"] + 1, 2 * 2**30, 4.0)]
    rows = bench.refresh_rows(sampler, [timing])
    assert set(rows) == {"linkage", "dbt_build"}
    assert rows["linkage"]["wall_s"] >= 0.2 and rows["linkage"]["peak_rss_gib"] == 2.0


def test_tree_sampler_sees_this_process():
    bench = _bench()
    import os

    sampler = bench.TreeSampler(os.getpid())
    sampler.sample()
    t, rss, cpu = sampler.samples[0]
    assert rss > 10 * 2**20 and cpu > 0
