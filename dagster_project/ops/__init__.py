"""Operations: the refresh chain and its schedules, alerts, retries, pools and freshness.

- `defs.operations(assets, ingest_jobs)`: the jobs, sensors and schedules of `refresh` and
  `alerts` for this asset graph; `policies.apply_operational_policies(defs)`: freshness and
  owners by group, applied once in definitions.py;
- `refresh`: `refresh_warehouse` and `publish_cohorts` jobs, the `downstream_refresh`
  sensor, `monthly_full_refresh` and `weekly_republish_cohorts` schedules;
- `alerts`: the `alert_on_run_failure` sensor (JSON lines + optional webhook);
- `policies`: retry with backoff (`TRANSIENT_RETRY`), freshness and owners by group;
- `concurrency`: pool names (one writer per DuckDB database and per raw table).

This package imports nothing from the asset modules at import time except through
`defs` and `refresh`, so that asset modules can import `ops.concurrency` and
`ops.policies` freely.
"""
