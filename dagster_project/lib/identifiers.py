"""What a direct identifier looks like: the one pattern every privacy check uses.

A column whose (lower-cased) name matches `IDENTIFIER_COLUMN` holds a direct identifier
(NHS number, names, date of birth, postcode, phone, e-mail, address) and must never leave
the identity zone or a re-identified direct-care file. Used by the release gate
(cohorts/publish.py), the warehouse tests, and mirrored by the dbt singular test
`assert_no_direct_identifiers.sql` (tests/unit/test_identifiers.py keeps the two equal).
"""

from __future__ import annotations

import re

IDENTIFIER_COLUMN_PATTERN = (
    r"nhs_?num|nhs_?no|given_name|family_name|forename|surname|first_name|last_name|^name$"
    r"|date_of_birth|^dob$|birth_date|postcode|post_code|phone|telephone|mobile|e_?mail|address")
IDENTIFIER_COLUMN = re.compile(IDENTIFIER_COLUMN_PATTERN)

# A release leaving the platform also drops quasi-identifiers the warehouse keeps for its
# rules (month of birth computes age at the reference date; it never leaves in a cohort).
RELEASE_IDENTIFIER_COLUMN = re.compile(IDENTIFIER_COLUMN_PATTERN + r"|birth_month")


def identifier_columns(columns, pattern: re.Pattern = IDENTIFIER_COLUMN) -> list[str]:
    """The columns named like a direct identifier."""
    return [c for c in columns if pattern.search(c.lower())]
