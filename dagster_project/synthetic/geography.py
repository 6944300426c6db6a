"""Geography: the 611 Norfolk and Waveney LSOAs and a fixed set of synthetic postcodes.

LSOAs and their deprivation and mid-2015 population come from the IoD2019 seed. The
postcodes are invented but shaped like the real ones of the area (district by local
authority, e.g. `NR3 1AB`); each postcode unit belongs to exactly one LSOA so that a
postcode-to-LSOA lookup is well defined.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.synthetic import config as C

UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))  # Royal Mail excludes CIKMOV


def load_lsoas() -> pl.DataFrame:
    """The Norfolk and Waveney LSOAs with IMD quintile (1 = most deprived) and a LAD key.

    `lad_key` is the 2019 LAD code for Norfolk and "WAVENEY" for the former Waveney
    district, whose LSOAs sit in East Suffolk (E07000244) in the 2019 geography.
    """
    imd = pl.read_csv(C.IMD_CSV, infer_schema_length=10_000)
    lsoas = imd.filter(
        pl.col("lad19cd").is_in(C.NORFOLK_LADS) | pl.col("lsoa11nm").str.starts_with(C.WAVENEY_PREFIX)
    )
    return (
        lsoas.with_columns(
            lad_key=pl.when(pl.col("lsoa11nm").str.starts_with(C.WAVENEY_PREFIX))
            .then(pl.lit("WAVENEY"))
            .otherwise(pl.col("lad19cd")),
            imd_quintile=((pl.col("imd_decile") + 1) // 2).cast(pl.Int8),
        )
        .select("lsoa11cd", "lsoa11nm", "lad19cd", "lad_key", "imd_decile", "imd_quintile",
                "pop_total_2015", "pop_0_15_2015", "pop_16_59_2015", "pop_60_plus_2015")
        .sort("lsoa11cd")
    )


def make_postcodes(lsoas: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Distinct postcode units per LSOA, one per C.PEOPLE_PER_POSTCODE of its population
    (at least C.MIN_POSTCODES_PER_LSOA): lsoa_idx, pc_idx, postcode.

    Each LSOA is put in one postcode sector of a district of its local authority; units
    are two random letters (400 per sector). Over-generate, drop collisions, keep the
    first n per LSOA.
    """
    n_l = lsoas.height
    wanted = np.maximum(C.MIN_POSTCODES_PER_LSOA,
                        np.round(lsoas["pop_total_2015"].to_numpy() / C.PEOPLE_PER_POSTCODE)).astype(np.int64)
    per = int(wanted.max())
    lad_keys = lsoas["lad_key"].to_list()
    district = np.array([
        C.POSTCODE_DISTRICTS[k][rng.integers(len(C.POSTCODE_DISTRICTS[k]))] for k in lad_keys
    ])
    sector = rng.integers(0, 10, n_l)
    over = per * 3
    lsoa_idx = np.repeat(np.arange(n_l), over)
    letters = UNIT_LETTERS[rng.integers(0, UNIT_LETTERS.size, (n_l * over, 2))]
    pcs = pl.DataFrame({
        "lsoa_idx": lsoa_idx.astype(np.int32),
        "wanted": wanted[lsoa_idx],
        "postcode": np.char.add(
            np.char.add(np.char.add(district[lsoa_idx], " "), sector[lsoa_idx].astype(str)),
            np.char.add(letters[:, 0], letters[:, 1]),
        ),
    })
    # LSOAs sharing a sector take their draws in turns, so the first does not fill it
    pcs = (
        pcs.with_columns(turn=pl.int_range(pl.len()).over("lsoa_idx"))
        .sort("turn", "lsoa_idx")
        .unique("postcode", keep="first", maintain_order=True)
        .drop("turn")
        .with_columns(k=pl.int_range(pl.len()).over("lsoa_idx"))
        .filter(pl.col("k") < pl.col("wanted"))
        .drop("k", "wanted")
        .sort("lsoa_idx", "postcode")
        .with_row_index("pc_idx")
        .with_columns(pl.col("pc_idx").cast(pl.Int32))
    )
    counts = pcs.group_by("lsoa_idx").len()
    if counts.height != n_l or counts["len"].min() < C.MIN_POSTCODES_PER_LSOA:
        raise RuntimeError("an LSOA got too few postcodes; raise the over-generation factor")
    return pcs


def random_postcode_in_lsoa(
    pcs: pl.DataFrame, lsoa_idx: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A postcode index (into pcs) for each LSOA index, uniformly among that LSOA's units."""
    counts = pcs.group_by("lsoa_idx").agg(n=pl.len(), first=pl.col("pc_idx").min()).sort("lsoa_idx")
    n = counts["n"].to_numpy()[lsoa_idx]
    first = counts["first"].to_numpy()[lsoa_idx]
    return (first + (rng.random(lsoa_idx.size) * n).astype(np.int64)).astype(np.int32)
