"""How far a count may stray from what is expected by chance alone.

One owner for the small-number allowance of every gate: a gate that compares a count with an
expectation (last month's volume, the failures a rate rule allows) must not stop an extract
for a difference that chance explains at small counts. Counts are treated as Poisson; the
allowance is NOISE_SD standard deviations, about 1 in 10,000 by chance, so a real fault still
blocks: at 100,000 rows a 2% rule blocks above 2.17%, at 500 rows above 4.2%.
"""

from __future__ import annotations

NOISE_SD = 3.72


def chance_excess(expected: float) -> float:
    """The most a Poisson count with this mean exceeds (or falls short of) it by chance."""
    return NOISE_SD * max(expected, 0.0) ** 0.5
