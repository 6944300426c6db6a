"""GP practices and Primary Care Networks with ODS-like codes.

About 105 practices in about 17 PCNs at ICS scale (fewer for small populations, at
least C.MIN_PRACTICES), placed in LSOAs of each local authority in proportion to its
population, with list sizes spread log-normally (about 2,000 to 30,000 at 1.1M people).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.synthetic import config as C

DESCRIPTORS = ("Medical Centre", "Surgery", "Health Centre", "Medical Practice",
               "Family Practice", "Group Practice")
STREETS = ("", "", "", "Church Street ", "Market ", "Old Mill ", "Park ", "Station Road ",
           "Bridge Street ", "The Lawns ", "Castle ", "Riverside ")


def n_practices(persons: int) -> int:
    """~105 practices from 50,000 people up, scaled down below that (at least 10)."""
    scaled = round(C.PRACTICES_AT_SCALE * persons / C.PRACTICE_SCALE_PERSONS)
    return int(min(C.PRACTICES_AT_SCALE, max(C.MIN_PRACTICES, scaled)))


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    exact = weights / weights.sum() * total
    base = np.floor(exact).astype(int)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: total - base.sum()]] += 1
    return base


def make_practices(
    lsoas: pl.DataFrame, postcodes: pl.DataFrame, persons: int, rng: np.random.Generator
) -> pl.DataFrame:
    """One row per practice: codes, names, PCN, LSOA, postcode, approval and list weight."""
    n = n_practices(persons)
    lad = lsoas.group_by("lad_key", maintain_order=True).agg(pl.col("pop_total_2015").sum())
    lad = lad.sort("lad_key")
    per_lad = np.maximum(_largest_remainder(lad["pop_total_2015"].to_numpy().astype(float), n), 1)
    rows = []
    lsoa_lad = lsoas["lad_key"].to_numpy()
    pop = lsoas["pop_total_2015"].to_numpy().astype(float)
    for lad_key, k in zip(lad["lad_key"].to_list(), per_lad):
        idx = np.flatnonzero(lsoa_lad == lad_key)
        chosen = rng.choice(idx, size=int(k), replace=False, p=pop[idx] / pop[idx].sum())
        rows.extend((lad_key, int(i)) for i in np.sort(chosen))
    n = len(rows)
    pr = pl.DataFrame({"lad_key": [r[0] for r in rows], "lsoa_idx": [r[1] for r in rows]},
                      schema={"lad_key": pl.String, "lsoa_idx": pl.Int32})

    # ODS-like codes: D82nnn (Norfolk), D83nnn (Waveney); PCNs U + 5 digits.
    nums = rng.choice(np.arange(1, 200), size=n, replace=False)
    prefix = np.where(pr["lad_key"].to_numpy() == "WAVENEY", "D83", "D82")
    codes = [f"{p}{x:03d}" for p, x in zip(prefix, nums)]
    towns = lsoas["lsoa11nm"].str.replace(r" \d+[A-Z]$", "").to_numpy()[pr["lsoa_idx"].to_numpy()]
    names, seen = [], set()
    for t in towns:
        for _ in range(50):
            name = f"{STREETS[rng.integers(len(STREETS))]}{t} " \
                   f"{DESCRIPTORS[rng.integers(len(DESCRIPTORS))]}".strip()
            if name not in seen:
                break
        seen.add(name)
        names.append(name)
    pc_first = postcodes.group_by("lsoa_idx").agg(pl.col("postcode").first())
    weight = np.clip(rng.lognormal(0.0, 0.55, n), 0.2, 2.9)
    pr = pr.with_columns(
        practice_code=pl.Series(codes),
        practice_name=pl.Series(names),
        town=pl.Series(towns),
        direct_care_approved=pl.Series(np.where(rng.random(n) < C.DIRECT_CARE_APPROVED, "Y", "N")),
        list_weight=pl.Series(weight),
    ).join(pc_first, on="lsoa_idx", how="left")

    # PCNs: consecutive practices within a LAD, about 6 per network.
    pcn_ids, pcn_names = [], []
    pcn_counter = 0
    for lad_key in sorted(set(pr["lad_key"].to_list())):
        sub = pr.filter(pl.col("lad_key") == lad_key)
        k = max(1, round(sub.height / C.PRACTICES_PER_PCN))
        groups = np.arange(sub.height) * k // sub.height
        for g in range(k):
            member_towns = sub["town"].to_numpy()[groups == g]
            pcn_names.append(f"{member_towns[0]} PCN")
        pcn_ids.extend(pcn_counter + groups)
        pcn_counter += k
    order = pr.with_row_index("_r").sort("lad_key", "_r", maintain_order=True)
    pcn_codes = rng.choice(np.arange(10000, 99999), size=pcn_counter, replace=False)
    uniq_names = []
    for i, nm in enumerate(pcn_names):
        uniq_names.append(nm if nm not in uniq_names else f"{nm} {i}")
    pcn_of_row = np.empty(n, dtype=int)
    pcn_of_row[order["_r"].to_numpy()] = np.array(pcn_ids)
    pr = pr.with_columns(
        pcn_code=pl.Series([f"U{pcn_codes[i]}" for i in pcn_of_row]),
        pcn_name=pl.Series([uniq_names[i] for i in pcn_of_row]),
    )
    return pr.sort("practice_code").with_row_index("practice_idx").with_columns(
        pl.col("practice_idx").cast(pl.Int32)
    )


def choose_practice(
    practices: pl.DataFrame, lad_key: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A practice index per person: mostly one in their own LAD, weighted by list size."""
    p_lad = practices["lad_key"].to_numpy()
    w = practices["list_weight"].to_numpy()
    out = rng.choice(practices.height, size=lad_key.size, p=w / w.sum()).astype(np.int32)
    local = rng.random(lad_key.size) < C.REGISTER_SAME_LAD
    for lad in np.unique(p_lad):
        idx = np.flatnonzero(p_lad == lad)
        mask = local & (lad_key == lad)
        k = int(mask.sum())
        if k:
            out[mask] = rng.choice(idx, size=k, p=w[idx] / w[idx].sum())
    return out


def practices_extract(practices: pl.DataFrame) -> pl.DataFrame:
    """The reference/practices table as delivered."""
    return practices.select("practice_code", "practice_name", "pcn_code", "pcn_name",
                            "postcode", "direct_care_approved").sort("practice_code")
