"""Where Splink runs: DuckDB on one machine (default) or Spark for a region or a nation.

The choice is configuration (`PHM_LINKAGE_BACKEND=duckdb|spark`, `PHM_SPARK_MASTER`),
held by a resource; the linkage code is the same either way. A Splink model trained on
one backend does not load on the other (their SQL dialects differ), so each backend has
its own model file: `person_model.json` (DuckDB) and `person_model.spark.json`.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from dagster_project.lib.processes import pid_alive
from dagster_project.lib.zones import Zones

BACKENDS = ("duckdb", "spark")


@dataclass
class Backend:
    name: str = "duckdb"
    spark_master: str = "local[2]"
    spark_conf: dict[str, str] = field(default_factory=dict)
    _db_api: Any = None

    def __post_init__(self) -> None:
        if self.name not in BACKENDS:
            raise ValueError(f"linkage backend {self.name!r} is not one of {BACKENDS}")

    @property
    def model_suffix(self) -> str:
        return "" if self.name == "duckdb" else f".{self.name}"

    def db_api(self):
        """A fresh Splink database API (one per linker: each holds its own tables)."""
        if self.name == "duckdb":
            import duckdb
            from splink import DuckDBAPI

            return DuckDBAPI(connection=duckdb.connect())
        from splink import SparkAPI

        return SparkAPI(spark_session=spark_session(self.spark_master, self.spark_conf))

    def register(self, db_api, frame: pl.DataFrame, name: str):
        if self.name == "duckdb":
            return db_api.register(frame.to_arrow(), dataset_display_name=name)
        # one Spark session serves every linker: give each its own table name
        spark = db_api.spark
        # Arrow straight into Spark (4.0+): nulls stay nulls (the pandas route can turn a
        # missing name into a value that equals every other missing name); no unsigned ints
        frame = frame.with_columns(pl.col(pl.UInt32, pl.UInt64).cast(pl.Int64))
        return db_api.register(spark.createDataFrame(frame.to_arrow()), dataset_display_name=name,
                               table_name=f"{name}_{uuid.uuid4().hex[:8]}")

    def fetch(self, splink_frame, columns: list[str], where: str | None = None) -> pl.DataFrame:
        """A Splink result table as polars (Arrow all the way on DuckDB), optionally filtered
        by a SQL condition both dialects read."""
        if self.name == "duckdb":
            con = splink_frame.db_api._con
            sql = f"select {', '.join(columns)} from {splink_frame.physical_name}" + (f" where {where}" if where else "")
            return pl.from_arrow(con.sql(sql).to_arrow_table())
        frame = splink_frame.as_spark_dataframe()
        if where:
            frame = frame.where(where)
        # Arrow batches (Spark 4.0+), not toPandas(): without Arrow enabled, toPandas pickles
        # row by row through Py4J, minutes for the millions of pairs of a large ICS
        return pl.from_arrow(frame.select(*columns).toArrow())



def spark_conf_from_env(raw: str | None) -> dict[str, str]:
    """`PHM_SPARK_CONF`: a JSON object of Spark settings for this deployment (shuffle
    partitions, executor memory, ...), applied over the defaults in `spark_session`."""
    if raw is None or not raw.strip():
        return {}
    try:
        conf = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"PHM_SPARK_CONF must be a JSON object of Spark settings, e.g. "
                         f'{{"spark.sql.shuffle.partitions": "400"}}: {exc.msg} at character {exc.pos}') from None
    if not isinstance(conf, dict):
        raise ValueError("PHM_SPARK_CONF must be a JSON object of Spark settings (name: value)")
    return {str(k): str(v) for k, v in conf.items()}


def checkpoint_dir(master: str) -> str:
    """Where Splink writes the intermediate tables it cuts lineage at (parquet).

    `PHM_SPARK_CHECKPOINT_DIR` if set: on a cluster it must be storage every executor and
    the driver share (hdfs://, s3a://, abfss://, a shared mount): a directory on the driver's
    local disk would hold only the parts written by executors on that host. Without it, local
    mode uses one directory per process under the identity zone (`identity/spark_checkpoints/`),
    removed when the process exits (was: one per linker in /tmp, never removed)."""
    configured = os.environ.get("PHM_SPARK_CHECKPOINT_DIR", "").strip()
    if configured:
        return configured
    if not master.startswith("local"):
        raise ValueError(f"PHM_SPARK_CHECKPOINT_DIR must name storage shared by the driver and every executor "
                         f"(hdfs://, s3a://, abfss:// or a shared mount) when PHM_SPARK_MASTER is not local "
                         f"(it is {master!r})")
    global _LOCAL_CHECKPOINTS
    if _LOCAL_CHECKPOINTS is None:
        # inside the identity zone, never /tmp: the checkpointed tables hold names, dates of
        # birth, postcodes and NHS numbers. One directory per process, removed at exit; those
        # of processes that died without exiting (a killed run) are removed by the next one.
        base = Zones.from_env().identity / "spark_checkpoints"
        base.mkdir(parents=True, exist_ok=True)
        for stale in base.iterdir():
            pid = stale.name.partition("-")[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)
        _LOCAL_CHECKPOINTS = tempfile.mkdtemp(prefix=f"{os.getpid()}-phm-spark-checkpoints-", dir=base)
        atexit.register(shutil.rmtree, _LOCAL_CHECKPOINTS, True)
    return _LOCAL_CHECKPOINTS


_LOCAL_CHECKPOINTS: str | None = None


def spark_session(master: str = "local[2]", conf: dict[str, str] | None = None):
    """A Spark session with Splink's similarity UDF jar (shipped inside the splink wheel)."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    builder = (
        SparkSession.builder.master(master)
        .appName("phm-linkage")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.default.parallelism", "8")
        .config("spark.driver.memory", "4g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.ansi.enabled", "false")
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setCheckpointDir(checkpoint_dir(master))
    spark.sparkContext.setLogLevel("ERROR")
    return spark
