"""Operations: the refresh chain, alerts, retries, pools, automation and freshness.

- `defs.operations(assets)`: the chain's named jobs and the sensors of `refresh` and
  `alerts` for this asset graph; `policies.apply_operational_policies(defs)`: automation
  conditions, freshness and owners by group, applied once in definitions.py;
- `refresh`: `refresh_warehouse` and `publish_cohorts` jobs and the `downstream_refresh`
  automation sensor (declarative automation: monthly full refresh and weekly re-publish
  are cron conditions);
- `alerts`: the `alert_on_run_failure` sensor (JSON lines + optional webhook);
- `policies`: retry with backoff (`TRANSIENT_RETRY`), automation conditions (`ChainIdle`),
  freshness and owners by group;
- `concurrency`: pool names (one writer per DuckDB database and per raw table).

This package imports nothing from the asset modules, so that asset modules can import
`ops.concurrency` and `ops.policies` freely.
"""
