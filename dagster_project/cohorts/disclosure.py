"""Statistical disclosure control for published aggregates: suppression that resists differencing.

Hiding counts 1..n-1 (primary suppression) is not enough when totals are published: where
one cell of a breakdown is hidden, the total minus the shown cells gives it back; where a
PCN's count is shown, it minus its practices' counts gives back a hidden practice. So:

1. every aggregate of a release is a cell of a linear system: each breakdown (dimension)
   sums to the overall total, and a dimension whose groups nest inside another's (practice
   in PCN, stratum in IMD quintile) sums to the parent cell, group by group;
2. `attack` is what an analyst with the release could do: interval propagation over every
   equation (a suppressed cell is at least 1, since zeros are shown); a cell whose lower and
   upper bounds meet is recovered;
3. `protect` suppresses primary cells, then, while `attack` recovers anything, suppresses
   the smallest shown non-zero cell of an equation holding a recovered cell (secondary or
   complementary suppression), which is the ONS/NHS Digital practice for tables with margins.

The release gate `no_suppressed_cell_recoverable` runs `attack` on the published summary
and fails the release if any suppressed value can be derived.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import polars as pl

SUPPRESSED = "suppressed"  # the published marker of a hidden count, everywhere
OVERALL = ("overall", "all")
COLUMNS = ("cohort", "population")

Cell = tuple[str, str, str]  # (column, dimension, group)


def is_small(count: int | None, threshold: int) -> bool:
    """Primary suppression hides counts 1..threshold-1 (a zero discloses nobody: shown)."""
    return count is not None and 1 <= count < threshold


def small_expr(count: pl.Expr, threshold: int) -> pl.Expr:
    """`is_small` for a column of counts."""
    return count.is_between(1, threshold - 1)


def shown_expr(count: pl.Expr, threshold: int) -> pl.Expr:
    """A count column as published: SUPPRESSED where small, else the count as text."""
    return pl.when(small_expr(count, threshold)).then(pl.lit(SUPPRESSED)).otherwise(count.cast(pl.String))


@dataclass(frozen=True)
class Equation:
    total: Cell
    parts: tuple[Cell, ...]

    def cells(self) -> tuple[Cell, ...]:
        return (self.total, *self.parts)


def _groups(frame: pl.DataFrame, column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).fill_null("unknown")


def nesting(frame: pl.DataFrame, dimensions: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """(child dimension, parent dimension, child group -> parent group) where the data nest.

    `dimensions`: summary dimension -> the column of `frame` its groups come from. A child
    nests in a parent when each child group falls in exactly one parent group.
    """
    out = []
    names = [d for d, c in dimensions.items() if c in frame.columns]
    for child, parent in itertools.permutations(names, 2):
        pairs = frame.select(_groups(frame, dimensions[child]).alias("c"),
                             _groups(frame, dimensions[parent]).alias("p")).unique()
        if pairs.height and pairs["c"].n_unique() == pairs.height and pairs["p"].n_unique() > 1:
            out.append((child, parent, dict(zip(pairs["c"], pairs["p"]))))
    return out


def equations(summary: pl.DataFrame, nests: dict[str, list[tuple[str, str, dict[str, str]]]]) -> list[Equation]:
    """Every linear relation between the cells of a summary (numeric or published)."""
    eqs = []
    present = {(r["dimension"], r["group"]) for r in summary.iter_rows(named=True)}
    for column in COLUMNS:
        if column not in summary.columns:
            continue
        has = {(r["dimension"], r["group"]) for r in summary.iter_rows(named=True)
               if r[column] not in (None, "")}
        by_dimension: dict[str, list[str]] = {}
        for dim, group in sorted(has):
            by_dimension.setdefault(dim, []).append(group)
        if OVERALL in has:
            for dim, groups in by_dimension.items():
                if dim != OVERALL[0]:
                    eqs.append(Equation((column, *OVERALL), tuple((column, dim, g) for g in groups)))
        for child, parent, mapping in nests.get(column, []):
            children: dict[str, list[str]] = {}
            for g, p in mapping.items():
                if (child, g) in has:
                    children.setdefault(p, []).append(g)
            for p, groups in sorted(children.items()):
                if (parent, p) in has and (parent, p) in present:
                    eqs.append(Equation((column, parent, p), tuple((column, child, g) for g in sorted(groups))))
    return eqs


def attack(values: dict[Cell, int | None], equations: list[Equation], passes: int = 50) -> dict[Cell, int]:
    """Suppressed cells (value None) an analyst can derive exactly from the shown ones."""
    lo: dict[Cell, float] = {}
    hi: dict[Cell, float] = {}
    for cell, v in values.items():
        lo[cell], hi[cell] = (1, math.inf) if v is None else (v, v)
    for _ in range(passes):
        changed = False
        for eq in equations:
            if any(c not in lo for c in eq.cells()):
                continue
            parts_lo = sum(lo[p] for p in eq.parts)
            parts_hi = sum(hi[p] for p in eq.parts)
            new_lo, new_hi = max(lo[eq.total], parts_lo), min(hi[eq.total], parts_hi)
            if (new_lo, new_hi) != (lo[eq.total], hi[eq.total]):
                lo[eq.total], hi[eq.total], changed = new_lo, new_hi, True
            for p in eq.parts:
                others_hi = parts_hi - hi[p]
                others_lo = parts_lo - lo[p]
                p_lo = max(lo[p], lo[eq.total] - others_hi) if not math.isinf(others_hi) else lo[p]
                p_hi = min(hi[p], hi[eq.total] - others_lo)
                if (p_lo, p_hi) != (lo[p], hi[p]):
                    lo[p], hi[p], changed = p_lo, p_hi, True
                    parts_lo, parts_hi = sum(lo[q] for q in eq.parts), sum(hi[q] for q in eq.parts)
        if not changed:
            break
    return {c: int(lo[c]) for c, v in values.items() if v is None and lo[c] == hi[c]}


def _nonzero_shown(cells, values: dict[Cell, int], hidden: set[Cell]) -> list[tuple[int, Cell]]:
    return sorted((values[c], c) for c in cells if c not in hidden and (values.get(c) or 0) > 0)


def _complement_singletons(values: dict[Cell, int], hidden: set[Cell], eqs: list[Equation]) -> None:
    """Where an equation holds exactly one hidden cell, hide its smallest other shown non-zero
    part (the total only when no part is left): the classic complement, to a fixed point."""
    changed = True
    while changed:
        changed = False
        for eq in eqs:
            if sum(c in hidden for c in eq.cells()) != 1:
                continue
            pick = _nonzero_shown(eq.parts, values, hidden) or _nonzero_shown([eq.total], values, hidden)
            if pick:
                hidden.add(pick[0][1])
                changed = True


def _complement_for(recovered: dict[Cell, int], values: dict[Cell, int], hidden: set[Cell],
                    eqs: list[Equation]) -> Cell | None:
    """One more cell to hide against an interval attack: in the equations of a recovered cell,
    fewest shown cells first (the one pinning it), its smallest shown non-zero part, else total;
    failing that, the smallest shown non-zero cell anywhere (always progress: every step hides
    one more cell, and with every non-zero cell hidden nothing can be pinned)."""
    for target in sorted(recovered):
        holding = [eq for eq in eqs if target in eq.cells()]
        holding.sort(key=lambda eq: len(_nonzero_shown(eq.cells(), values, hidden)))
        for eq in holding:
            pick = _nonzero_shown(eq.parts, values, hidden) or _nonzero_shown([eq.total], values, hidden)
            if pick:
                return pick[0][1]
    rest = _nonzero_shown({c for eq in eqs for c in eq.cells()}, values, hidden)
    return rest[0][1] if rest else None


def protect(values: dict[Cell, int], threshold: int, eqs: list[Equation]) -> set[Cell]:
    """The cells to suppress: primary (1..threshold-1) plus enough secondary cells that
    `attack` recovers none."""
    hidden = {c for c, v in values.items() if is_small(v, threshold)}
    while True:
        _complement_singletons(values, hidden, eqs)
        recovered = attack({c: (None if c in hidden else v) for c, v in values.items()}, eqs)
        if not recovered:
            return hidden
        cell = _complement_for(recovered, values, hidden, eqs)
        if cell is None:  # cannot happen (see _complement_for); fail loudly rather than publish
            raise RuntimeError(f"secondary suppression could not protect {len(recovered)} cell(s)")
        hidden.add(cell)


def cell_values(summary: pl.DataFrame) -> dict[Cell, int | None]:
    """Cells of a summary frame: ints, None for 'suppressed'; empty cells left out."""
    out: dict[Cell, int | None] = {}
    for r in summary.iter_rows(named=True):
        for column in COLUMNS:
            v = r.get(column)
            if v is None or v == "":
                continue
            out[(column, r["dimension"], str(r["group"]))] = None if v == SUPPRESSED else int(v)
    return out


def suppress_summary(summary: pl.DataFrame, threshold: int, nests: dict) -> tuple[pl.DataFrame, list[Equation]]:
    """A numeric summary (dimension, group, cohort, population) as published strings, with
    primary and secondary suppression, and cohort_per_1000 hidden wherever a count is."""
    eqs = equations(summary, nests)
    values = {c: v for c, v in cell_values(summary).items() if v is not None}
    hidden = protect(values, threshold, eqs)
    rows = []
    for r in summary.iter_rows(named=True):
        key = (r["dimension"], r["group"])
        shown = {}
        for column in COLUMNS:
            v = r[column]
            shown[column] = SUPPRESSED if (column, *key) in hidden else ("" if v is None else str(v))
        if SUPPRESSED in shown.values():
            rate = SUPPRESSED
        elif r["population"] in (None, 0):
            rate = ""
        else:
            rate = str(round(1000 * r["cohort"] / r["population"], 1))
        rows.append({"dimension": r["dimension"], "group": r["group"], **shown, "cohort_per_1000": rate})
    schema = {c: pl.String for c in ("dimension", "group", "cohort", "population", "cohort_per_1000")}
    return pl.DataFrame(rows, schema=schema), eqs


def write_equations(path: Path, eqs: list[Equation]) -> None:
    """The relations the gate checks (which cells sum to which), published beside the summary."""
    path.write_text(json.dumps([{"total": list(e.total), "parts": [list(p) for p in e.parts]} for e in eqs]))


def read_equations(path: Path) -> list[Equation]:
    if not path.exists():
        return []
    return [Equation(tuple(e["total"]), tuple(tuple(p) for p in e["parts"])) for e in json.loads(path.read_text())]


def recoverable(summary: pl.DataFrame, extra: list[Equation] | None = None) -> dict[Cell, int]:
    """The gate: suppressed cells of a published summary that can be derived.

    Uses the margins it can see itself (every dimension sums to the overall total) plus the
    nesting relations published beside the summary."""
    eqs = equations(summary, {}) + list(extra or [])
    return attack(cell_values(summary), eqs)
