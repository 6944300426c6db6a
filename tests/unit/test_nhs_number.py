import numpy as np
import polars as pl

from dagster_project.lib import nhs_number


def test_known_valid_and_invalid_numbers():
    assert nhs_number.is_valid("9434765919")  # the NHS Data Dictionary's worked example
    assert not nhs_number.is_valid("9434765918")
    assert not nhs_number.is_valid("943476591")
    assert not nhs_number.is_valid("94347659AB")
    assert not nhs_number.is_valid(None)


def test_check_digit_ten_is_never_valid():
    # 999000001x: weights give remainder 1 -> check digit 10 -> no valid number exists
    stems = [f"999{i:06d}" for i in range(2000)]
    impossible = [s for s in stems if nhs_number.check_digit(s) is None]
    assert impossible
    assert not any(nhs_number.is_valid(s + str(d)) for s in impossible[:20] for d in range(10))


def test_generated_numbers_are_distinct_valid_and_in_the_999_range():
    numbers = nhs_number.generate_999(np.random.default_rng(7), 5000)
    assert len(set(numbers)) == 5000
    assert all(n.startswith("999") and nhs_number.is_valid(n) for n in numbers)


def test_vectorised_check_agrees_with_scalar_check():
    rng = np.random.default_rng(3)
    values = [str(v) for v in rng.integers(9_990_000_000, 9_999_999_999, 3000)] + ["", "12", None]
    frame = pl.DataFrame({"n": values}).with_columns(ok=nhs_number.valid_expr("n"))
    assert frame["ok"].to_list() == [nhs_number.is_valid(v) for v in values]
