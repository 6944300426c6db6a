"""The synthetic people: where they live, age, sex, ethnicity, names and contacts.

People are placed in LSOAs in proportion to each LSOA's mid-2015 population in three
age bands (0-15, 16-59, 60+), so both the geography and its age structure follow the
real area; single-year ages within a band follow a UK-like pyramid.

NHS numbers come only from the never-issued 999 range with valid check digits. That range
holds 909,091 valid numbers, fewer than the 1.1M people of a full ICS: people beyond the
pool are "untraced" (no NHS number in any source; truth status `missing`), and the run
prints a warning with their count. Phone numbers come only from Ofcom's drama ranges and
e-mail addresses only from example.com/.org/.net.

Dates are held as int32 days since 1970-01-01 inside the generator.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import polars as pl

from dagster_project.lib.nhs_number import all_valid_999
from dagster_project.synthetic import config as C
from dagster_project.synthetic.names import assign_names

EPOCH = dt.date(1970, 1, 1)
# Census-category terms are what practices mostly record; prefer them within a group.
PREFERRED_ETHNICITY_TERMS = (r"(?i)ethnic category 2001 census|^White British|^White Irish|"
                             r"^Indian|^Pakistani|^Bangladeshi|^Chinese$|^Black Caribbean|"
                             r"^Black African|^Arab$|^Polish|^Mixed ethnic census")
DRAMA_LANDLINES = ("01632 960", "020 7946 0", "0113 496 0", "0161 496 0", "0117 496 0",
                   "0121 496 0", "0131 496 0", "0141 496 0", "0191 498 0")


def day(d: dt.date) -> int:
    return (d - EPOCH).days


def to_date(days: np.ndarray | pl.Series) -> pl.Series:
    return pl.Series(days).cast(pl.Int32).cast(pl.Date)


def _age_weights(lo: int, hi: int) -> np.ndarray:
    ages = np.arange(lo, hi + 1)
    k = np.array(C.AGE_PYRAMID_KNOTS, dtype=float)
    w = np.interp(ages, k[:, 0], k[:, 1])
    return w / w.sum()


def sample_people(
    lsoas: pl.DataFrame, n: int, end_day: int, rng: np.random.Generator
) -> pl.DataFrame:
    """n people with LSOA, age at end_date, DOB and sex (vectorised)."""
    bands = (("pop_0_15_2015", 0, 15), ("pop_16_59_2015", 16, 59),
             ("pop_60_plus_2015", 60, C.MAX_AGE))
    cell_pop = np.stack([lsoas[b[0]].to_numpy().astype(float) for b in bands], axis=1).ravel()
    counts = rng.multinomial(n, cell_pop / cell_pop.sum())
    cell = np.repeat(np.arange(cell_pop.size), counts)
    lsoa_idx = (cell // 3).astype(np.int32)
    band = cell % 3
    age = np.empty(n, dtype=np.int32)
    for b, (_, lo, hi) in enumerate(bands):
        mask = band == b
        age[mask] = rng.choice(np.arange(lo, hi + 1), size=int(mask.sum()), p=_age_weights(lo, hi))
    # shuffle so that person order does not encode geography
    perm = rng.permutation(n)
    lsoa_idx, age = lsoa_idx[perm], age[perm]
    dob = end_day - (age * 365.25).astype(np.int32) - rng.integers(1, 365, n)
    k = np.array(C.FEMALE_SHARE_KNOTS, dtype=float)
    female = rng.random(n) < np.interp(age, k[:, 0], k[:, 1])
    return pl.DataFrame({
        "person_idx": np.arange(n, dtype=np.int32),
        "lsoa_idx": lsoa_idx,
        "dob": dob.astype(np.int32),
        "age": age,
        "sex": np.where(female, "F", "M"),
    })


def assign_ethnicity(people: pl.DataFrame, ethnicity_codes: pl.DataFrame,
                     rng: np.random.Generator) -> pl.DataFrame:
    """A SNOMED ethnicity code per person (null = not recorded) and its 16-group label.

    Minority groups are younger in Norfolk, so their share is raised for under-40s.
    """
    n = people.height
    groups = list(C.ETHNICITY_SHARES)
    base = np.array([C.ETHNICITY_SHARES[g] for g in groups])
    young = people["age"].to_numpy() < 40
    chosen = np.empty(n, dtype=object)
    for is_young in (False, True):
        p = base.copy()
        if is_young:
            p[1:] *= 1.6
        p = p / p.sum()
        mask = young == is_young
        chosen[mask] = np.array(groups, dtype=object)[rng.choice(len(groups), int(mask.sum()), p=p)]
    code = np.empty(n, dtype=object)
    for g in groups:
        mask = chosen == g
        codes = (ethnicity_codes.filter(pl.col("group_16") == g)
                 .sort(~pl.col("term").str.contains(PREFERRED_ETHNICITY_TERMS),
                       pl.col("term").str.len_chars(), "code")["code"].to_numpy())
        codes = codes[:4]  # a few common codes per group keep the data realistic
        w = 1.0 / np.arange(1, codes.size + 1) ** 1.5
        code[mask] = rng.choice(codes, size=int(mask.sum()), p=w / w.sum())
    missing = rng.random(n) < C.ETHNICITY_NOT_RECORDED
    code[missing] = None
    return people.with_columns(
        # .tolist(): polars cannot cast a numpy object array whose first values are None
        ethnicity_code=pl.Series(code.tolist(), dtype=pl.String),
        ethnicity_group16=pl.Series(chosen.astype(str)),
    )


def assign_nhs_numbers(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(nhs numbers as strings with None for untraced people, the unused pool numbers)."""
    pool = all_valid_999()
    rng.shuffle(pool)
    out = np.full(n, None, dtype=object)
    k = min(n, pool.size)
    if k < n:
        warnings.warn(
            f"the 999 range holds {pool.size} valid NHS numbers: {n - k} people are untraced "
            "(no NHS number in any source)", stacklevel=2)
        print(f"WARNING: {n - k} people beyond the 999 NHS number pool are untraced")
    traced = rng.permutation(n)[:k]
    out[np.sort(traced)] = pool[:k].astype(str)
    return out, pool[k:].astype(str)


def assign_contacts(people: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Phone (Ofcom drama ranges only) and e-mail (example.* only); some have neither."""
    n = people.height
    mobile = rng.random(n) < 0.7
    last3 = rng.integers(0, 1000, n)
    land_prefix = np.array(DRAMA_LANDLINES)[rng.integers(0, len(DRAMA_LANDLINES), n)]
    phone = np.where(mobile, np.char.add("07700 900", np.char.zfill(last3.astype(str), 3)),
                     np.char.add(land_prefix, np.char.zfill(last3.astype(str), 3)))
    phone = np.where(rng.random(n) < C.PHONE_NONE, None, phone.astype(object))
    domain = np.array(["example.com", "example.org", "example.net"])[rng.integers(0, 3, n)]
    has_email = (rng.random(n) >= C.EMAIL_NONE) & (people["age"].to_numpy() >= 13)
    return people.with_columns(
        phone=pl.Series(phone.tolist(), dtype=pl.String),
        _dom=pl.Series(domain),
        _num=pl.Series(rng.integers(1, 99, n)),
        _email=pl.Series(has_email),
    ).with_columns(
        email=pl.when(pl.col("_email")).then(
            pl.concat_str(pl.col("given_name").str.to_lowercase(), pl.lit("."),
                          pl.col("family_name").str.to_lowercase().str.replace_all("'", ""),
                          pl.col("_num").cast(pl.String), pl.lit("@"), pl.col("_dom"))
        )
    ).drop("_dom", "_num", "_email")


def make_people(lsoas: pl.DataFrame, ethnicity_codes: pl.DataFrame, n: int, end_day: int,
                rng: np.random.Generator) -> tuple[pl.DataFrame, np.ndarray]:
    """The people frame and the unused NHS numbers of the pool."""
    people = sample_people(lsoas, n, end_day, rng)
    people = assign_ethnicity(people, ethnicity_codes, rng)
    people = people.with_columns(
        birth_year=pl.col("dob").cast(pl.Date).dt.year(),
    )
    people = assign_names(people, rng)
    nhs, spare = assign_nhs_numbers(n, rng)
    # .tolist(): an untraced first person (a None first) made polars infer Object and crash
    people = people.with_columns(nhs_number=pl.Series(nhs.tolist(), dtype=pl.String))
    people = assign_contacts(people, rng)
    quint = lsoas["imd_quintile"].to_numpy()
    lad = lsoas["lad_key"].to_numpy()
    li = people["lsoa_idx"].to_numpy()
    return people.with_columns(
        imd_quintile=pl.Series(quint[li]), lad_key=pl.Series(lad[li])
    ), spare
