"""The dead-run sensor finds a run's executing processes from its start events alone."""

import os

import dagster as dg

from dagster_project.ops.concurrency import executing_pids


def test_executing_pids_come_from_the_start_events_of_the_run():
    @dg.asset
    def one():
        return 1

    with dg.instance_for_test() as instance:
        result = dg.materialize([one], instance=instance)
        assert result.success
        # in-process: the run and its step ran in this process; only start events are read
        assert executing_pids(instance, result.run_id) == {os.getpid()}
        assert executing_pids(instance, "no-such-run") == set()
