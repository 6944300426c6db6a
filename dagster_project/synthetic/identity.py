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

Real-world identity errors, at messiness 1 (config.SourceMessiness; rates per record):
- Date of birth one digit mistyped (0.3%), two adjacent digits transposed (0.2%), only
  partly known (0.2%: year only -> 1 January, or day unknown -> the 1st) or missing
  (0.1%): 0.8% of hospital records in all, twice that at messiness 2. Published rates
  bracket this: 0.11% of HES admissions disagree with the Personal Demographics Service
  on sex or date of birth or miss them (Harron et al., BMC Med Res Methodol 2017;17:23),
  and 1.5% of birthdates were wrong in a state-wide health data set (Luo et al., BMC
  Bioinformatics 2014;15:185). Only edits giving a valid, different date are made (a
  data-entry system rejects 31 February).
- Sex recorded as the other sex (0.1%), beside "U" (1%): within Harron et al.'s 0.11%
  for sex/date-of-birth disagreement, with unknown sex as the commoner form.
- NHS number with two adjacent digits transposed (0.2% of records) or one digit
  mistyped (0.3%), 0.5% invalid in all as before: both fail modulus 11 (its weights 10..2 detect every single substitution and
  adjacent transposition), so both are "invalid" in the truth; `nhs_transposed` marks
  the transpositions. Rates are our assumption: no published split was found.
- Double-barrelled surnames: 2% of people (our assumption; no national figure found),
  recorded in full in most records and as one part only in 25% of their named records,
  with a hyphen or a space. Name problems are the single largest cause of failed
  matches without an NHS number (37 of 100 failed traces: HSCIC 2009, cited in
  Hagger-Johnson et al., Health Serv Res 2015;50:1162).
- Given name recorded as an initial only (0.5% of named records; our assumption).
- An address kept at the previous postcode for years: for 10% of people who move, a
  source goes on recording the old postcode in every later record (40% of movers had not
  registered with a new GP six months after moving: Millett et al. 2005, cited in
  Hagger-Johnson et al. 2015). This is beside the per-record stale postcode.
Every one is marked in truth/person_records.parquet (TRUTH_FLAGS).
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


def _hash01(values: np.ndarray, salt: int) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per integer (same person, same answer in
    every source and extract, whatever order records are generated in)."""
    h = (values.astype(np.uint64) * np.uint64(2654435761) + np.uint64(salt)) % np.uint64(2**32)
    h = (h ^ (h >> np.uint64(13))) * np.uint64(1274126177) % np.uint64(2**32)
    return h.astype(np.float64) / 2**32


DOUBLE_BARRELLED = 0.02  # share of people with a double-barrelled surname (assumption)


def double_barrelled(people: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Which people have a double-barrelled surname, and its second part (another
    person's surname), decided per person so every source agrees."""
    idx = np.arange(people.height)  # records index people by row (person_idx)
    family = people["family_name"].to_numpy().astype(str)
    has = _hash01(idx, 17) < DOUBLE_BARRELLED
    partner = (idx.astype(np.int64) * 7919 + 13) % max(len(family), 1)
    second = family[partner]
    has &= second != family
    return has, second


def _date_from_digits(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """YYYYMMDD digit arrays -> (days since epoch, valid) for real dates after 1900."""
    y = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    mth = digits[:, 4] * 10 + digits[:, 5]
    d = digits[:, 6] * 10 + digits[:, 7]
    first = pl.date(pl.col("y").clip(1900, 2026), pl.col("m").clip(1, 12), 1)
    frame = pl.DataFrame({"y": y, "m": mth, "d": d}).with_columns(
        ok=(pl.col("y") >= 1900) & (pl.col("y") <= 2026) & pl.col("m").is_between(1, 12)
        & (pl.col("d") >= 1) & (pl.col("d") <= first.dt.month_end().dt.day()))  # no 31 February
    dates = frame.select(
        pl.when(pl.col("ok")).then(first + pl.duration(days=pl.col("d") - 1)).cast(pl.Int32)).to_series()
    valid = dates.is_not_null().to_numpy()
    return dates.fill_null(0).to_numpy(), valid


def _dob_edit(dob: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One digit changed ("typo") or two adjacent digits swapped ("transposed") in
    YYYYMMDD, retried a few times until the result is a valid date different from the
    truth; returns (dates, edited)."""
    m = dob.size
    out, done = dob.copy(), np.zeros(m, dtype=bool)
    if m == 0:
        return out, done
    base = pl.Series(dob).cast(pl.Int32).cast(pl.Date).dt.strftime("%Y%m%d").to_numpy().astype("U8")
    digits0 = np.array([list(s) for s in base], dtype=np.int64)
    for _ in range(6):
        todo = np.flatnonzero(~done)
        if todo.size == 0:
            break
        digits = digits0[todo].copy()
        rows = np.arange(todo.size)
        if kind == "typo":
            pos = rng.integers(2, 8, todo.size)  # not the century: 1950 -> 2950 is no typo anyone keeps
            digits[rows, pos] = (digits[rows, pos] + rng.integers(1, 10, todo.size)) % 10
        else:
            pos = rng.integers(2, 7, todo.size)
            a, b = digits[rows, pos].copy(), digits[rows, pos + 1].copy()
            digits[rows, pos], digits[rows, pos + 1] = b, a
        dates, valid = _date_from_digits(digits)
        ok = valid & (dates != dob[todo])
        out[todo[ok]] = dates[ok]
        done[todo[ok]] = True
    return out, done


def _transpose_nhs(numbers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Swap two adjacent, different digits after the 999 prefix (fails modulus 11)."""
    m = numbers.size
    if m == 0:
        return numbers
    digits = np.array([list(s) for s in numbers.astype("U10")], dtype="U1")
    rows = np.arange(m)
    pos = rng.integers(3, 9, m)
    for _ in range(5):  # find adjacent digits that differ (a swap of equal digits changes nothing)
        same = digits[rows, pos] == digits[rows, pos + 1]
        pos = np.where(same, 3 + (pos - 2) % 6, pos)
    a, b = digits[rows, pos].copy(), digits[rows, pos + 1].copy()
    digits[rows, pos], digits[rows, pos + 1] = b, a
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
    # a transcription slip (nhs_invalid in all): one digit mistyped, or two adjacent
    # digits swapped (nhs_transposed of the nhs_invalid); the sources' gates block above 2%
    nhs_transposed = (status == "invalid") & (rng.random(m) < (
        scaled(r.nhs_transposed, x) / max(inv, 1e-12)))
    bad = np.flatnonzero((status == "invalid") & ~nhs_transposed)
    if bad.size:
        nhs = nhs.scatter(bad, pl.Series(_invalidate(true_nhs.gather(bad).to_numpy().astype(str),
                                                     rng)))
    tr = np.flatnonzero(nhs_transposed)
    if tr.size:
        swapped_nhs = _transpose_nhs(true_nhs.gather(tr).to_numpy().astype(str), rng)
        nhs = nhs.scatter(tr, pl.Series(swapped_nhs))
        # a number whose digits could not be swapped to a different value stays intact
        unchanged = swapped_nhs == true_nhs.gather(tr).to_numpy().astype(str)
        status[tr[unchanged]] = "ok"
        nhs_transposed[tr[unchanged]] = False
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
    # double-barrelled surnames: the full form (hyphen or space) or one part only
    db_has, db_second = double_barrelled(people)
    # the truth's people table holds one surname per person, so at messiness 0 (identities
    # exactly as in the truth) nobody is double-barrelled
    dbl = db_has[pidx] & ~surname_changed & (x > 0)
    part_only = dbl & (rng.random(m) < scaled(r.surname_part, x))
    which = rng.random(m) < 0.5
    sep = np.where(rng.random(m) < 0.8, "-", " ")
    full = np.char.add(np.char.add(f, sep), db_second[pidx].astype(str))
    f = np.where(dbl & ~part_only, full, np.where(part_only & which, db_second[pidx].astype(str), f)).astype(str)
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
    initials = rng.random(m) < scaled(r.initials_only, x)
    g_arr = np.where(initials, np.char.upper(np.array([v[:1] for v in g_arr.astype(str)])), g_arr)
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
    # one error per record at most: typo, transposition, partial or missing
    u = rng.random(m)
    t_typo, t_tr, t_part, t_miss = (scaled(r.dob_typo, x), scaled(r.dob_transposed, x),
                                    scaled(r.dob_partial, x), scaled(r.dob_missing, x))
    want_typo = ~dob_swapped & (u < t_typo)
    want_tr = ~dob_swapped & (u >= t_typo) & (u < t_typo + t_tr)
    dob_partial = ~dob_swapped & (u >= t_typo + t_tr) & (u < t_typo + t_tr + t_part)
    dob_missing = ~dob_swapped & (u >= t_typo + t_tr + t_part) & (u < t_typo + t_tr + t_part + t_miss)
    dob_typo = np.zeros(m, dtype=bool)
    dob_transposed = np.zeros(m, dtype=bool)
    for want, flag, kind in ((want_typo, dob_typo, "typo"), (want_tr, dob_transposed, "transposed")):
        at = np.flatnonzero(want)
        edited, done = _dob_edit(dob_out[at], kind, rng)
        dob_out[at] = edited
        flag[at[done]] = True
    at = np.flatnonzero(dob_partial)
    if at.size:
        year_only = rng.random(at.size) < 0.5
        partial = pl.DataFrame({"y": yy[at], "m": mm[at]}).select(
            pl.date(pl.col("y"), pl.when(pl.Series(year_only)).then(1).otherwise(pl.col("m")), 1)
            .cast(pl.Int32)).to_series().to_numpy()
        changed = partial != dob_out[at]
        dob_out[at] = partial
        dob_partial[at[~changed]] = False  # born on 1 January: nothing was lost
    dob_out_series = pl.select(pl.when(pl.Series(dob_missing)).then(None)
                               .otherwise(pl.Series(dob_out))).to_series()

    sex_unknown = rng.random(m) < scaled(r.sex_unknown, x)
    sex_wrong = ~sex_unknown & (rng.random(m) < scaled(r.sex_wrong, x)) & np.isin(sex, ["M", "F"])
    sex_out = np.where(sex_unknown, "U", np.where(sex_wrong, np.where(sex == "M", "F", "M"), sex))
    # per (person, source): this source never caught up with the move
    source_salt = sum(ord(c) for c in source) * 131
    stale_for_years = _hash01(pidx, source_salt) < scaled(r.stale_for_years, x)
    pc_stale = (rng.random(m) < scaled(r.stale_postcode, x)) | stale_for_years
    fmt = np.where(rng.random(m) < scaled(r.postcode_format, x), rng.integers(1, 4, m), 0)

    return records.with_columns(
        nhs_number=nhs,
        given_name=pl.Series(given_out.astype(str)),
        family_name=pl.Series(family_out.astype(str)),
        dob_rec=dob_out_series.cast(pl.Int32),
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
        nhs_transposed=pl.Series(nhs_transposed),
        dob_typo=pl.Series(dob_typo),
        dob_transposed=pl.Series(dob_transposed),
        dob_partial=pl.Series(dob_partial),
        dob_missing=pl.Series(dob_missing),
        sex_wrong=pl.Series(sex_wrong),
        surname_double_barrelled=pl.Series(dbl),
        surname_part_only=pl.Series(part_only),
        initials_only=pl.Series(initials),
        pc_stale_years=pl.Series(stale_for_years),
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
        stale_for_years=pl.col("_moved") & pl.col("pc_stale_years")
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
