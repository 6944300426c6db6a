"""Cohort-component projection of the registered population from the reference date, by
district, PCN, IMD quintile, sex and age band, for every year to the horizon, under the
principal, low and high variants. The arithmetic is dagster_project.projection
(cohort_component: ageing, births, deaths, migration; model: seeds -> rates, variants),
unit-tested there; this model only feeds it warehouse tables and seeds."""


def model(dbt, session):
    dbt.config(materialized="table")
    from dagster_project.projection.model import run_projection

    frame = run_projection(
        base=dbt.ref("int_projection_base_population").pl(),
        growth=dbt.ref("projection_district_growth").pl(),
        mortality=dbt.ref("projection_mortality").pl(),
        fertility=dbt.ref("projection_fertility").pl(),
        parameters=dbt.ref("projection_parameters").pl(),
        age_bands=dbt.ref("projection_age_bands").pl(),
    )
    return frame.to_arrow()
