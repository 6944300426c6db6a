"""The back-test projection: the population registered backtest_years before the reference
date (int_projection_backtest_base_population), projected to the reference date by the
same model and rates as int_projection_population."""


def model(dbt, session):
    dbt.config(materialized="table")
    from dagster_project.projection.model import parameter, run_projection

    parameters = dbt.ref("projection_parameters").pl()
    frame = run_projection(
        base=dbt.ref("int_projection_backtest_base_population").pl(),
        growth=dbt.ref("projection_district_growth").pl(),
        mortality=dbt.ref("projection_mortality").pl(),
        fertility=dbt.ref("projection_fertility").pl(),
        parameters=parameters,
        age_bands=dbt.ref("projection_age_bands").pl(),
        years=int(parameter(parameters, "backtest_years")),
    )
    return frame.to_arrow()
