"""NHS number rules: the modulus-11 check digit, vectorised.

The NHS number is 10 digits; the 10th is a check digit computed from the first nine
with weights 10..2 (NHS Data Dictionary, "NHS NUMBER"). A remainder giving 11 maps to
0 and one giving 10 means the nine digits can never form a valid number.

Synthetic data uses only the never-issued 999 range (999 000 0000 - 999 999 9999).
"""

from __future__ import annotations

import numpy as np
import polars as pl

WEIGHTS = np.arange(10, 1, -1)  # 10, 9, ..., 2


def check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when no check digit can make them valid."""
    total = sum(int(d) * w for d, w in zip(first_nine, WEIGHTS))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def is_valid(nhs_number: str | None) -> bool:
    """True when the value is exactly 10 digits with a correct modulus-11 check digit."""
    if nhs_number is None or len(nhs_number) != 10 or not nhs_number.isdigit():
        return False
    return check_digit(nhs_number[:9]) == int(nhs_number[9])


def valid_expr(column: str | pl.Expr) -> pl.Expr:
    """Polars expression: the column holds a valid NHS number (nulls are not valid)."""
    col = pl.col(column) if isinstance(column, str) else column
    s = col.cast(pl.Utf8)
    digits = [s.str.slice(i, 1).cast(pl.Int64, strict=False) for i in range(10)]
    total = sum(d * int(w) for d, w in zip(digits[:9], WEIGHTS))
    expected = (11 - total % 11) % 11  # 11 -> 0; 10 stays 10 and never matches a digit
    return (
        s.str.contains(r"^\d{10}$").fill_null(False)
        & (expected == digits[9]).fill_null(False)
    )


def normalise_expr(column: str | pl.Expr) -> pl.Expr:
    """Polars expression: an NHS number as its 10 digits when only its formatting differs.

    Suppliers write `999 123 4567`, `999-123-4567`, or prefix an apostrophe so a spreadsheet
    keeps the leading digits; those become `9991234567`. A value that is not 10 digits once
    spaces, hyphens and one leading apostrophe are removed is returned unchanged, so the
    modulus-11 rule reports it as delivered.
    """
    col = pl.col(column) if isinstance(column, str) else column
    s = col.cast(pl.Utf8)
    stripped = s.str.strip_chars().str.strip_prefix("'").str.replace_all(r"[\s\-]", "")
    return pl.when(stripped.str.contains(r"^\d{10}$")).then(stripped).otherwise(s)


def all_valid_999() -> np.ndarray:
    """Every valid NHS number in the 999 range (about 909,000), ascending, as int64."""
    nine = 999_000_000 + np.arange(1_000_000, dtype=np.int64)
    digits = (nine[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    check = 11 - (digits * WEIGHTS).sum(axis=1) % 11
    check = np.where(check == 11, 0, check)
    ok = check != 10
    return nine[ok] * 10 + check[ok]


def generate_999(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct valid NHS numbers from the never-issued 999 range, as strings.

    Deterministic for a given rng state. The range holds about 909,000 valid numbers,
    which bounds the size of a synthetic population's distinct NHS numbers.
    """
    pool = all_valid_999()
    if n > pool.size:
        raise ValueError(f"the 999 range holds {pool.size} valid NHS numbers; asked for {n}")
    return rng.choice(pool, size=n, replace=False).astype(str)
