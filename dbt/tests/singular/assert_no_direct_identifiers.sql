{{ config(meta={"dagster": {"asset_key": ["warehouse", "dim_person"]}}) }}
-- depends_on: {{ ref("mart_inequalities") }}, {{ ref("mart_risk_calibration") }}, {{ ref("int_service_use") }}
-- Privacy invariant: no table or view the warehouse builds (staging, intermediate, marts)
-- has a column named like a direct identifier (NHS number, names, date of birth,
-- postcode, phone, e-mail). Values are scanned by tests/integration/test_warehouse.py.
select table_schema, table_name, column_name
from information_schema.columns
where table_catalog = current_database()
  and table_schema in ('staging', 'intermediate', 'marts')
  -- the pattern is dagster_project/lib/identifiers.py IDENTIFIER_COLUMN_PATTERN, verbatim
  -- (tests/unit/test_identifiers.py fails when the two differ)
  and regexp_matches(lower(column_name),
      '(nhs_?num|nhs_?no|given_name|family_name|forename|surname|first_name|last_name|^name$|date_of_birth|^dob$|birth_date|postcode|post_code|phone|telephone|mobile|e_?mail|address)')
