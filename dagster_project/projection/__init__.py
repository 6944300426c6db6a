"""Looking ahead: the registered population and its need projected 20 years (issue 18).

cohort_component: the projection arithmetic (pure numpy); model: seeds and warehouse
tables to projected populations (called by the dbt Python models under
dbt/models/intermediate/projection); report: the HTML report; assets: the Dagster asset.
"""
