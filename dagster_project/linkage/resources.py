"""The linkage area's resources: where Splink runs, and the pseudonymisation key.

`PHM_PSEUDO_KEY` is the HMAC key (never in code; `make` sets a clearly labelled demo key).
"""

from __future__ import annotations

import os

import dagster as dg

from dagster_project.linkage.backends import Backend, spark_conf_from_env
from dagster_project.linkage.pseudonymise import require_key


class LinkageBackendResource(dg.ConfigurableResource):
    """Where Splink runs: `duckdb` (one machine) or `spark` (`PHM_LINKAGE_BACKEND`,
    `PHM_SPARK_MASTER`, e.g. `spark://host:7077` or `local[2]`, and `PHM_SPARK_CONF`, a JSON
    object of Spark settings such as shuffle partitions and memory; docs/spark.md)."""

    engine: str = "duckdb"
    spark_master: str = "local[2]"
    spark_conf: dict[str, str] = {}

    def backend(self) -> Backend:
        return Backend(name=self.engine, spark_master=self.spark_master, spark_conf=dict(self.spark_conf))

    @classmethod
    def from_env(cls) -> LinkageBackendResource:
        return cls(engine=os.environ.get("PHM_LINKAGE_BACKEND", "duckdb"),
                   spark_master=os.environ.get("PHM_SPARK_MASTER", "local[2]"),
                   spark_conf=spark_conf_from_env(os.environ.get("PHM_SPARK_CONF")))


class PseudonymisationKey(dg.ConfigurableResource):
    """The HMAC key for pseudo ids: from the environment (`PHM_PSEUDO_KEY`), never code."""

    key: str

    def as_bytes(self) -> bytes:
        try:
            return require_key(self.key)
        except ValueError as exc:  # a missing, short or demo key is permanent: never retried
            raise dg.Failure(description=str(exc), allow_retries=False) from None
