"""Identity messiness: what each source record says about who the person is.

Every person-level record (a GP patient record, a spell, a referral, ...) gets its own
recorded identity, decided once so that a record says the same thing in every extract:
the true NHS number or a missing, invalid (fails modulus 11) or wrong-but-valid one;
given and family names with typos, nicknames, a changed surname or the two swapped; a
date of birth with day and month swapped; sex recorded U; and a postcode that may be
stale (the address before a move) or formatted differently. Rates per source are in
config.MESSINESS, multiplied by the run's messiness X (0 = clean, 2 = harsh) and capped.
Flags record exactly what was done, for the truth file.

Some rates apply to the records where the error is possible, as documented in config:
nicknames (given names with a nickname), DOB swaps (day <= 12 and day != month), stale
postcodes (records made after the person moved).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.synthetic import config as C
from dagster_project.synthetic.names import NICKNAMES

LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


def scaled(rate: float, x: float) -> float:
    return min(rate * x, C.MESSINESS_CAP) if rate > 0 else 0.0


def _typo(names: pl.Series, rng: np.random.Generator) -> pl.Series:
    """One edit per name: substitution, deletion or transposition of adjacent letters."""
    m = names.len()
    if m == 0:
        return names
    length = names.str.len_chars().to_numpy()
    kind = rng.integers(0, 3, m)
    pos = np.minimum((rng.random(m) * np.maximum(length - 1, 1)).astype(np.int64) + 1,
                     np.maximum(length - 1, 0))  # keep the first letter (as people do)
    letter = LETTERS[rng.integers(0, 26, m)]
    df = pl.DataFrame({"s": names, "p": pos, "k": kind, "l": letter})
    s, p = pl.col("s"), pl.col("p")
    out = df.select(
        pl.when(pl.col("k") == 0).then(
            pl.concat_str(s.str.slice(0, p), pl.col("l"), s.str.slice(p + 1)))
        .when(pl.col("k") == 1).then(pl.concat_str(s.str.slice(0, p), s.str.slice(p + 1)))
        .otherwise(pl.concat_str(s.str.slice(0, p - 1), s.str.slice(p, 1),
                                 s.str.slice(p - 1, 1), s.str.slice(p + 1)))
    ).to_series()
    return out


def _invalidate(numbers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Change one digit after the 999 prefix: a single changed digit always fails mod 11."""
    m = numbers.size
    if m == 0:
        return numbers
    digits = np.array([list(s) for s in numbers.astype("U10")], dtype="U1")
    pos = rng.integers(3, 10, m)
    old = digits[np.arange(m), pos].astype(int)
    digits[np.arange(m), pos] = ((old + rng.integers(1, 10, m)) % 10).astype(str)
    return np.array(["".join(r) for r in digits])


def record_identity(records: pl.DataFrame, people: pl.DataFrame, source: str, x: float,
                    spare_numbers: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Add recorded identity columns and truth flags to records (needs person_idx, day).

    `day` is the day the record was made (for increments) or null for snapshot records
    whose postcode is evaluated at each extract; it is used for the stale-postcode rule.
    Output columns: nhs_number, given_name, family_name, dob (day), sex, pc_stale,
    pc_format, and the flags nhs_number_status, name_typo, nickname, surname_changed,
    names_swapped, dob_swapped, sex_unknown, postcode_format_varied.
    """
    r = C.MESSINESS[source]
    m = records.height
    pidx = records["person_idx"].to_numpy()
    given = people["given_name"].to_numpy()[pidx]
    family = people["family_name"].to_numpy()[pidx]
    alt = people["alt_family_name"].to_numpy()[pidx]
    dob = people["dob"].to_numpy()[pidx]
    sex = people["sex"].to_numpy()[pidx]
    female = sex == "F"

    # NHS number
    u = rng.random(m)
    miss, inv, wrong = (scaled(r.nhs_missing, x), scaled(r.nhs_invalid, x),
                        scaled(r.nhs_wrong, x))
    true_nhs = people["nhs_number"].gather(pidx)
    has = true_nhs.is_not_null().to_numpy()
    status = np.where(~has | (u < miss), "missing",
                      np.where(u < miss + inv, "invalid",
                               np.where(u < miss + inv + wrong, "wrong", "ok")))
    nhs = pl.select(pl.when(pl.Series(status == "missing")).then(None)
                    .otherwise(true_nhs)).to_series()
    bad = np.flatnonzero(status == "invalid")
    if bad.size:
        nhs = nhs.scatter(bad, pl.Series(_invalidate(true_nhs.gather(bad).to_numpy().astype(str),
                                                     rng)))
    wr = np.flatnonzero(status == "wrong")
    if wr.size:
        all_nhs = people["nhs_number"].drop_nulls().to_numpy().astype(str)
        other = all_nhs[rng.integers(0, all_nhs.size, wr.size)]
        if spare_numbers.size:
            spare = spare_numbers[rng.integers(0, spare_numbers.size, wr.size)]
            other = np.where(rng.random(wr.size) < 0.5, other, spare)
        truth = true_nhs.gather(wr).to_numpy().astype(str)
        other = np.where(other == truth, all_nhs[rng.integers(0, all_nhs.size, wr.size)], other)
        nhs = nhs.scatter(wr, pl.Series(other.astype(str)))
        status[wr[other == truth]] = "ok"

    # Names
    typo = rng.random(m) < scaled(r.name_typo, x)
    typo_family = rng.random(m) < 0.5
    nick_map = pl.Series(given, dtype=pl.String).replace_strict(
        NICKNAMES, default="").to_numpy()
    nickname = (nick_map != "") & (rng.random(m) < scaled(r.nickname, x))
    surname_rate = scaled(r.surname_changed, x)
    surname_changed = rng.random(m) < np.where(female, surname_rate * 1.6, surname_rate * 0.4)
    swapped = rng.random(m) < scaled(r.names_swapped, x)
    g = np.where(nickname, nick_map, given).astype(str)
    f = np.where(surname_changed, alt, family).astype(str)
    g_s, f_s = pl.Series(g), pl.Series(f)
    ti = np.flatnonzero(typo & ~typo_family)
    if ti.size:
        g_s = g_s.scatter(ti, _typo(g_s.gather(ti), rng))
    ti = np.flatnonzero(typo & typo_family)
    if ti.size:
        f_s = f_s.scatter(ti, _typo(f_s.gather(ti), rng))
    g_arr, f_arr = g_s.to_numpy(), f_s.to_numpy()
    # a typo that happens to leave the name unchanged is no typo
    name_typo = typo & ((g_arr != g) | (f_arr != f))
    given_out = np.where(swapped, f_arr, g_arr)
    family_out = np.where(swapped, g_arr, f_arr)

    # DOB: day/month swap where the result is a valid, different date
    dob_date = pl.Series(dob).cast(pl.Int32).cast(pl.Date)
    dd, mm, yy = dob_date.dt.day().to_numpy(), dob_date.dt.month().to_numpy(), \
        dob_date.dt.year().to_numpy()
    can = (dd <= 12) & (dd != mm)
    dob_swapped = can & (rng.random(m) < scaled(r.dob_swapped, x))
    swapped_dob = pl.DataFrame({"y": yy, "m": dd, "d": mm}).select(
        pl.date(pl.col("y"), pl.col("m").clip(1, 12), pl.col("d").clip(1, 28))
        .cast(pl.Int32)).to_series().to_numpy()
    dob_out = np.where(dob_swapped, swapped_dob, dob).astype(np.int32)

    sex_unknown = rng.random(m) < scaled(r.sex_unknown, x)
    sex_out = np.where(sex_unknown, "U", sex)
    pc_stale = rng.random(m) < scaled(r.stale_postcode, x)
    fmt = np.where(rng.random(m) < scaled(r.postcode_format, x), rng.integers(1, 4, m), 0)

    return records.with_columns(
        nhs_number=nhs,
        given_name=pl.Series(given_out.astype(str)),
        family_name=pl.Series(family_out.astype(str)),
        dob_rec=pl.Series(dob_out),
        sex_rec=pl.Series(sex_out),
        pc_stale=pl.Series(pc_stale),
        pc_format=pl.Series(fmt.astype(np.int8)),
        nhs_number_status=pl.Series(status),
        name_typo=pl.Series(name_typo),
        nickname=pl.Series(nickname),
        surname_changed=pl.Series(surname_changed),
        names_swapped=pl.Series(swapped),
        dob_swapped=pl.Series(dob_swapped),
        sex_unknown=pl.Series(sex_unknown),
        postcode_format_varied=pl.Series(fmt > 0),
    )


def postcode_at(records: pl.DataFrame, people: pl.DataFrame, postcodes: pl.DataFrame,
                lsoa_codes: pl.Series, day: pl.Expr) -> pl.DataFrame:
    """Recorded postcode and its LSOA at `day` (an expression on records).

    The true postcode is the new one from the move day on; a stale record keeps the old
    one. Formatting variation (lower case, no space) is applied last.
    """
    pp = people.select("person_idx", "move_day", "pc_old", "pc_new")
    pcs = postcodes.select("pc_idx", "postcode", "lsoa_idx")
    moved = pl.col("move_day").is_not_null() & (day >= pl.col("move_day"))
    df = records.join(pp, on="person_idx", how="left", maintain_order="left").with_columns(
        _moved=moved,
    ).with_columns(
        pc_idx=pl.when(pl.col("_moved") & ~pl.col("pc_stale")).then(pl.col("pc_new"))
        .otherwise(pl.col("pc_old")),
        stale_postcode=pl.col("_moved") & pl.col("pc_stale")
        & (pl.col("pc_new") != pl.col("pc_old")),
    ).join(pcs, on="pc_idx", how="left", maintain_order="left")
    pc = pl.col("postcode")
    df = df.with_columns(
        postcode=pl.when(pl.col("pc_format") == 1).then(pc.str.to_lowercase())
        .when(pl.col("pc_format") == 2).then(pc.str.replace(" ", ""))
        .when(pl.col("pc_format") == 3).then(pc.str.replace(" ", "").str.to_lowercase())
        .otherwise(pc),
    )
    lut = pl.DataFrame({"lsoa_idx": np.arange(lsoa_codes.len(), dtype=np.int32),
                        "lsoa11cd": lsoa_codes})
    return df.join(lut, on="lsoa_idx", how="left", maintain_order="left").drop(
        "move_day", "pc_old", "pc_new", "_moved", "pc_idx", "lsoa_idx"
    )
