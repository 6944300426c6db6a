"""Life events over time: deaths, house moves, GP registrations and practice changes.

Everything is decided once over the whole timeline (up to the last extract date) so that
each extract is a consistent cut of the same history: a record keeps its id, and a later
extract only adds what happened after the earlier one (births, deaths, moves, new
registrations, closed registrations).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.synthetic import config as C
from dagster_project.synthetic.geography import random_postcode_in_lsoa
from dagster_project.synthetic.practices import choose_practice

YEAR = 365.25


def assign_deaths(people: pl.DataFrame, end_day: int, rng: np.random.Generator) -> pl.DataFrame:
    """date_of_death (day number or null) over the activity history window.

    Gompertz hazard by age, raised by frailty and multimorbidity, so the old and frail
    die more. people needs: age, dob, frailty (0-3), n_conditions.
    """
    age = people["age"].to_numpy().astype(float)
    a, b = C.MORTALITY_GOMPERTZ
    frail_rr = np.array([1.0, 1.6, 2.5, 4.0])[people["frailty"].to_numpy()]
    hazard = np.exp(a + b * age) * frail_rr * (1 + 0.15 * people["n_conditions"].to_numpy())
    hazard = np.minimum(hazard, 0.6)
    start = end_day - int(C.ACTIVITY_HISTORY_YEARS * YEAR)
    lo = np.maximum(start, people["dob"].to_numpy())
    years = np.maximum(end_day - lo, 0) / YEAR
    dies = rng.random(age.size) < 1 - np.exp(-hazard * years)
    when = lo + (rng.random(age.size) * (end_day - lo)).astype(np.int32)
    dod = np.where(dies, when, -1)
    return people.with_columns(
        dod=pl.Series(dod, dtype=pl.Int32).replace(-1, None),
    )


def assign_moves(people: pl.DataFrame, lsoas: pl.DataFrame, postcodes: pl.DataFrame,
                 end_day: int, rng: np.random.Generator) -> pl.DataFrame:
    """At most one house move per person in the last 4 years: old/new LSOA and postcode.

    Adds pc_old, pc_new (postcode indices), lsoa_old, lsoa_idx (current), move_day (null
    when no move). Most moves stay in the same district.
    """
    n = people.height
    window = int(4 * YEAR)
    start = end_day - window
    dob = people["dob"].to_numpy()
    dod = people["dod"].fill_null(end_day + 1).to_numpy()
    moves = rng.random(n) < 1 - np.exp(-C.MOVE_RATE * 4)
    move_day = start + rng.integers(0, window, n)
    moves &= (move_day > dob + 30) & (move_day < dod)
    lsoa_old = people["lsoa_idx"].to_numpy()
    pop = lsoas["pop_total_2015"].to_numpy().astype(float)
    lad_of_lsoa = lsoas["lad_key"].to_numpy()
    anywhere = rng.choice(lsoas.height, size=n, p=pop / pop.sum()).astype(np.int32)
    same = np.empty(n, dtype=np.int32)
    person_lad = lad_of_lsoa[lsoa_old]
    for lad in np.unique(lad_of_lsoa):
        idx = np.flatnonzero(lad_of_lsoa == lad)
        mask = person_lad == lad
        same[mask] = rng.choice(idx, size=int(mask.sum()), p=pop[idx] / pop[idx].sum())
    lsoa_new = np.where(rng.random(n) < C.MOVE_SAME_LAD, same, anywhere)
    lsoa_new = np.where(moves, lsoa_new, lsoa_old)
    pc_old = random_postcode_in_lsoa(postcodes, lsoa_old, rng)
    pc_new = random_postcode_in_lsoa(postcodes, lsoa_new, rng)
    # a move within the same LSOA still changes the postcode unit (or the house)
    return people.with_columns(
        lsoa_old=pl.Series(lsoa_old, dtype=pl.Int32),
        lsoa_idx=pl.Series(lsoa_new, dtype=pl.Int32),
        pc_old=pl.Series(pc_old),
        pc_new=pl.Series(np.where(moves, pc_new, pc_old).astype(np.int32)),
        move_day=pl.Series(np.where(moves, move_day, -1), dtype=pl.Int32).replace(-1, None),
        lad_key=pl.Series(lad_of_lsoa[lsoa_new]),
        lad_key_old=pl.Series(lad_of_lsoa[lsoa_old]),
    )


def make_registrations(people: pl.DataFrame, practices: pl.DataFrame, end_day: int,
                       duplicate_rate: float, rng: np.random.Generator) -> pl.DataFrame:
    """GP patient records (one per registration period), with stable patient ids.

    Each person has a first registration with a practice near where they lived; a move
    to another district usually (and a few other times) brings a new registration and
    closes the old one. Death closes the last one. A share `duplicate_rate` of people
    also have a duplicate record (at another practice, or a re-registration at the same
    practice under a new patient_id). Columns: patient_id, person_idx, practice_idx,
    registered_from, registered_to (null = open), is_duplicate.
    """
    n = people.height
    dob = people["dob"].to_numpy()
    dod = people["dod"].fill_null(-1).to_numpy()
    dead = dod >= 0
    lad_now = people["lad_key"].to_numpy()
    old_lad = people["lad_key_old"].to_numpy()
    move = people["move_day"].fill_null(-1).to_numpy()
    moved = move >= 0
    first_from = np.maximum(dob + rng.integers(7, 60, n),
                            end_day - (rng.exponential(12.0, n) * YEAR).astype(np.int64))
    first_from = np.minimum(first_from, np.where(dead, dod - 1, end_day)).astype(np.int32)

    # practice before and after the move
    p_old = choose_practice(practices, old_lad, rng)
    p_new = choose_practice(practices, lad_now, rng)
    other_lad = old_lad != lad_now
    change = moved & np.where(other_lad, rng.random(n) < C.PRACTICE_CHANGE_ON_MOVE_OTHER_LAD,
                              rng.random(n) < 0.15)
    change_day = move + rng.integers(7, 90, n)
    # practice changes without a move
    window = int(4 * YEAR)
    no_move_change = ~moved & (rng.random(n) < 1 - np.exp(-C.PRACTICE_CHANGE_NO_MOVE * 4))
    change_day = np.where(no_move_change, end_day - rng.integers(0, window, n), change_day)
    change |= no_move_change
    change &= (change_day > first_from + 30) & (change_day <= end_day)
    change &= ~dead | (change_day < dod)
    change &= p_new != p_old

    idx = np.arange(n, dtype=np.int32)
    first_to = np.where(change, change_day, np.where(dead, dod, -1))
    first = pl.DataFrame({
        "person_idx": idx, "practice_idx": p_old, "registered_from": first_from,
        "registered_to": first_to.astype(np.int32), "is_duplicate": False,
    })
    second = pl.DataFrame({
        "person_idx": idx[change], "practice_idx": p_new[change],
        "registered_from": change_day[change].astype(np.int32),
        "registered_to": np.where(dead, dod, -1)[change].astype(np.int32), "is_duplicate": False,
    })
    # duplicates: a second record for the same person
    dup = rng.random(n) < duplicate_rate
    same_practice = rng.random(n) < 0.5
    other_practice = choose_practice(practices, lad_now, rng)
    dup_practice = np.where(same_practice, p_old, other_practice)
    dup_from = np.maximum(first_from + rng.integers(30, 3000, n), first_from + 30)
    dup &= dup_from <= end_day
    dup &= ~dead | (dup_from < dod)
    dup_to = np.where(rng.random(n) < 0.4, dup_from + rng.integers(30, 700, n), -1)
    dup_to = np.where((dup_to > end_day) | (dead & (dup_to > dod)), -1, dup_to)
    dup_to = np.where(dead & (dup_to < 0), dod, dup_to)
    third = pl.DataFrame({
        "person_idx": idx[dup], "practice_idx": dup_practice[dup].astype(np.int32),
        "registered_from": dup_from[dup].astype(np.int32),
        "registered_to": dup_to[dup].astype(np.int32), "is_duplicate": True,
    })
    regs = pl.concat([first, second, third], how="vertical_relaxed")
    regs = regs.with_columns(
        pl.col("practice_idx").cast(pl.Int32),
        pl.col("registered_to").replace(-1, None),
        _r=pl.Series(rng.random(regs.height)),
    ).sort("practice_idx", "registered_from", "_r", maintain_order=True)
    # patient ids look like practice system ids: unique, stable, not in person order
    pid = 1_000_000 + rng.permutation(regs.height)
    return regs.with_columns(patient_id=pl.Series(pid.astype(str))).drop("_r")
