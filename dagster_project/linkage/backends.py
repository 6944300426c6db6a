"""Where Splink runs: DuckDB on one machine (default) or Spark for a region or a nation.

The choice is configuration (`PHM_LINKAGE_BACKEND=duckdb|spark`, `PHM_SPARK_MASTER`),
held by a resource; the linkage code is the same either way. A Splink model trained on
one backend does not load on the other (their SQL dialects differ), so each backend has
its own model file: `person_model.json` (DuckDB) and `person_model.spark.json`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import polars as pl

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
        return pl.from_pandas(frame.select(*columns).toPandas())



def spark_session(master: str = "local[2]", conf: dict[str, str] | None = None):
    """A Spark session with Splink's similarity UDF jar (shipped inside the splink wheel)."""
    import tempfile

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
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="phm-spark-checkpoints-"))
    spark.sparkContext.setLogLevel("ERROR")
    return spark
