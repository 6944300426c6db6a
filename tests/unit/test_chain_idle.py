"""ChainIdle asks run storage once per automation tick, not once per asset."""

import datetime as dt

import dagster as dg

from dagster_project.ops import policies


class CountingInstance:
    def __init__(self, runs):
        self.calls, self.runs = 0, runs

    def get_runs(self, filters=None, limit=None):
        self.calls += 1
        return self.runs


def test_one_run_storage_query_per_tick():
    busy = [dg.DagsterRun(job_name="ingest_gp", run_id="a" * 36)]
    instance = CountingInstance(busy)
    tick = dt.datetime(2026, 11, 29, 7, tzinfo=dt.UTC)
    assert all(policies._busy_at(instance, tick) for _ in range(69))  # every asset of the tick
    assert instance.calls == 1
    instance.runs = []  # the next tick sees the runs as they are then
    assert not policies._busy_at(instance, tick + dt.timedelta(seconds=30))
    assert instance.calls == 2


def test_a_hand_run_model_training_does_not_hold_the_chain():
    training = CountingInstance([dg.DagsterRun(job_name="train_linkage_model", run_id="b" * 36)])
    assert policies.chain_busy(training) == []
