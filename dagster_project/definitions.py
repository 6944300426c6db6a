"""The Dagster code location: assembles the pieces; holds no logic of its own."""

from __future__ import annotations

import dagster as dg

from dagster_project.cohorts.assets import COHORT_ASSETS
from dagster_project.cohorts.rebuild_job import rebuild_release_job
from dagster_project.linkage.assets import IDENTITY_ASSETS, link_people_job, train_linkage_model_job
from dagster_project.linkage.resources import LinkageBackendResource, PseudonymisationKey
from dagster_project.ops.defs import apply_operational_policies, operations
from dagster_project.outreach.assets import OUTREACH_ASSETS, OUTREACH_JOB
from dagster_project.projection import assets as projection
from dagster_project.resources import PlatformResource
from dagster_project.sources.assets import RAW_ASSETS
from dagster_project.sources.automation import INGEST_JOBS, MONTHLY_SCHEDULES, landing_sensor
from dagster_project.warehouse import WAREHOUSE_ASSETS, WAREHOUSE_RESOURCES
from dagster_project.warehouse.calibration import RISK_MODEL_ASSETS

defs = dg.Definitions(
    assets=[*RAW_ASSETS, *IDENTITY_ASSETS, *WAREHOUSE_ASSETS, *COHORT_ASSETS,
            *RISK_MODEL_ASSETS, *OUTREACH_ASSETS],
    jobs=[*INGEST_JOBS.values(), link_people_job, train_linkage_model_job, OUTREACH_JOB,
          rebuild_release_job],
    sensors=[landing_sensor],
    schedules=MONTHLY_SCHEDULES,
    resources={
        "platform": PlatformResource(),  # PHM_DATA_DIR of the running process
        "pseudonymisation": PseudonymisationKey(key=dg.EnvVar("PHM_PSEUDO_KEY")),
        "linkage": LinkageBackendResource.from_env(),
        **WAREHOUSE_RESOURCES,
    },
)

# operations (chain jobs, automation and alert sensors); automation conditions, freshness and
# owners applied once, by group. The projection module, not its Definitions object, is
# imported: Dagster refuses two Definitions at module scope
defs = dg.Definitions.merge(defs, projection.PROJECTION_DEFS)  # projection report, after the warehouse
defs = apply_operational_policies(dg.Definitions.merge(defs, operations(list(defs.assets or []))))
