"""Spark backend configuration: settings from the environment, and where Splink cuts lineage."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dagster_project.linkage import backends
from dagster_project.linkage.resources import LinkageBackendResource


def test_spark_conf_from_env_reads_a_json_object_of_settings():
    conf = backends.spark_conf_from_env('{"spark.sql.shuffle.partitions": 400, "spark.executor.memory": "16g"}')
    assert conf == {"spark.sql.shuffle.partitions": "400", "spark.executor.memory": "16g"}
    assert backends.spark_conf_from_env(None) == {} and backends.spark_conf_from_env("  ") == {}


@pytest.mark.parametrize("raw", ["spark.sql.shuffle.partitions=400", '["spark.driver.memory", "8g"]'])
def test_spark_conf_from_env_refuses_anything_but_a_json_object(raw):
    with pytest.raises(ValueError, match="PHM_SPARK_CONF must be a JSON object"):
        backends.spark_conf_from_env(raw)


def test_the_linkage_resource_hands_the_configured_settings_to_the_backend(monkeypatch):
    monkeypatch.setenv("PHM_LINKAGE_BACKEND", "spark")
    monkeypatch.setenv("PHM_SPARK_MASTER", "spark://spark-master:7077")
    monkeypatch.setenv("PHM_SPARK_CONF", '{"spark.sql.shuffle.partitions": "400"}')
    backend = LinkageBackendResource.from_env().backend()
    assert (backend.name, backend.spark_master) == ("spark", "spark://spark-master:7077")
    assert backend.spark_conf == {"spark.sql.shuffle.partitions": "400"}
    monkeypatch.delenv("PHM_SPARK_CONF")
    assert LinkageBackendResource.from_env().backend().spark_conf == {}


def test_a_cluster_needs_shared_checkpoint_storage(monkeypatch):
    monkeypatch.delenv("PHM_SPARK_CHECKPOINT_DIR", raising=False)
    with pytest.raises(ValueError, match="PHM_SPARK_CHECKPOINT_DIR must name storage shared"):
        backends.checkpoint_dir("spark://spark-master:7077")
    monkeypatch.setenv("PHM_SPARK_CHECKPOINT_DIR", "s3a://phm-identity/spark-checkpoints")
    assert backends.checkpoint_dir("spark://spark-master:7077") == "s3a://phm-identity/spark-checkpoints"


def test_local_mode_uses_one_checkpoint_directory_per_process_and_removes_it_at_exit(tmp_path):
    # before: every linker made a new temporary directory, never removed (a run's
    # intermediate tables left in /tmp each time)
    code = ("import os; from dagster_project.linkage import backends as b; "
            "d = b.checkpoint_dir('local[2]'); assert b.checkpoint_dir('local[*]') == d; "
            "open(os.path.join(d, 'part'), 'w').write('x'); print(d)")
    env = {k: v for k, v in os.environ.items() if k != "PHM_SPARK_CHECKPOINT_DIR"}
    env["PHM_DATA_DIR"] = str(tmp_path)
    # a killed run's directory (its process is gone) is removed by the next run
    stale = tmp_path / "identity" / "spark_checkpoints" / "999999999-phm-spark-checkpoints-x"
    stale.mkdir(parents=True)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    made = out.stdout.strip()
    # inside the identity zone (the tables hold identifiers), not /tmp
    assert made.startswith(str(tmp_path / "identity" / "spark_checkpoints"))
    assert not os.path.exists(made)
    assert not stale.exists()
