"""One identifier pattern: the Python gates and the dbt privacy test use the same one."""

import re
from pathlib import Path

from dagster_project.lib.identifiers import (
    IDENTIFIER_COLUMN_PATTERN,
    RELEASE_IDENTIFIER_COLUMN,
    identifier_columns,
)

DBT_TEST = Path(__file__).resolve().parents[2] / "dbt" / "tests" / "singular" / "assert_no_direct_identifiers.sql"


def test_the_dbt_privacy_test_uses_the_same_pattern():
    literal = re.search(r"regexp_matches\(lower\(column_name\),\s*'\((.*)\)'\)", DBT_TEST.read_text())
    assert literal, "assert_no_direct_identifiers.sql no longer has one regexp literal"
    assert literal.group(1) == IDENTIFIER_COLUMN_PATTERN


def test_direct_identifiers_are_recognised_and_analytic_columns_are_not():
    columns = ["nhs_number", "NHS_No", "given_name", "surname", "date_of_birth", "postcode",
               "mobile_phone", "email", "address_line_1", "name",
               "pseudo_id", "practice_code", "practice_name", "lsoa11cd", "age_band", "birth_month"]
    assert identifier_columns(columns) == columns[:10]
    assert identifier_columns(["birth_month"], RELEASE_IDENTIFIER_COLUMN) == ["birth_month"]
