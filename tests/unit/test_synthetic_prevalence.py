"""Living prevalence of the generated ICS against England's QOF registers.

QOF prevalence is the register over the living registered list at the reference date. The
generator first gives conditions to everyone it makes, including people who die before the
reference date, and some registers have rules of their own (DEP004: latest episode since
April 2006; CAN001: first diagnosis since April 2003; AST005: an asthma drug in 12 months).
Dementia and depression used to come out 30-40% low. This reads the generated extracts back,
applies the registers' rules (tests/unit/qof_registers.py, as the warehouse does) and holds
each register to synthetic.config.QOF_PREVALENCE within its tolerance.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from dagster_project.synthetic import GeneratorConfig, generate
from dagster_project.synthetic.config import QOF_PREVALENCE
from tests.unit.qof_registers import living_registers, prevalence

PERSONS = 30_000
REFERENCE = "2026-11-01"


@pytest.fixture(scope="module")
def registers(tmp_path_factory: pytest.TempPathFactory):
    out: Path = tmp_path_factory.mktemp("prevalence")
    generate(GeneratorConfig(persons=PERSONS, seed=11, extracts=1, out=out))
    return living_registers(out, REFERENCE)


def tolerance(target: float, n: int) -> float:
    """Relative tolerance: 10%, or three binomial standard errors at this size if wider
    (dementia, ~0.75% of 30,000 people, has a relative standard error of ~7%)."""
    return max(0.10, 3 * math.sqrt(target * (1 - target) / n) / target)


def test_dementia_and_depression_match_qof_among_the_living(registers):
    people, regs = registers
    got = prevalence(people, regs, {c: QOF_PREVALENCE[c][1] for c in ("dementia", "depression")})
    for condition in ("dementia", "depression"):
        target, min_age = QOF_PREVALENCE[condition]
        n = people.filter(people["age"] >= min_age).height
        tol = tolerance(target, n)
        assert abs(got[condition] / target - 1) <= tol, (
            f"{condition}: {got[condition]:.4f} of the living aged {min_age}+ vs QOF "
            f"{target:.4f} (tolerance {tol:.0%})")


def test_every_targeted_register_matches_qof_among_the_living(registers):
    people, regs = registers
    got = prevalence(people, regs, {c: a for c, (_, a) in QOF_PREVALENCE.items()})
    off = {}
    for condition, (target, min_age) in QOF_PREVALENCE.items():
        n = people.filter(people["age"] >= min_age).height
        if abs(got[condition] / target - 1) > tolerance(target, n):
            off[condition] = (round(got[condition], 4), target)
    assert not off, f"registers off their QOF prevalence (got, target): {off}"
    # the living are the denominator: the register counts nobody who has died
    assert people.height < PERSONS
