"""Contact needs and postal addresses for the synthetic GP record.

- `address_lines`: a house number and street per person and postcode (a move gives a new
  address with the new postcode). Streets are common English street names, not addresses
  of real people; the postcode is the synthetic person's real N&W postcode.
- `contact_need_events`: coded communication needs in gp.events at realistic rates, with
  real SNOMED CT concepts only:
    315594003 |Interpreter needed (finding)|  - about 1% overall in Norfolk, far commoner
        among people recorded as White - any other White background (Norfolk's Polish,
        Lithuanian, Portuguese and Latvian communities) and other non-British groups;
    315570003 |Main spoken language English (finding)| - recorded for about a third of
        people, as practices do at registration.
  Accessible Information Standard needs (large print, contact by letter, British Sign
  Language) are not generated: their concept ids could not be confirmed from a public
  source here, and no code is invented.
"""

from __future__ import annotations

import numpy as np
import polars as pl

INTERPRETER_NEEDED = "315594003"
MAIN_LANGUAGE_ENGLISH = "315570003"
STREETS = np.array(["Church Lane", "Station Road", "Mill Road", "The Street", "Norwich Road", "High Street",
                    "School Lane", "Back Lane", "Chapel Street", "Manor Road", "Victoria Road", "London Road",
                    "Yarmouth Road", "Cromer Road", "Beccles Road", "Common Lane", "Green Lane", "Hall Road",
                    "Park Lane", "Holt Road"])
# interpreter needed, by 16-group ethnicity (census 2011 groups); Mixed 1%, other groups 5%
INTERPRETER_RATE_BY_GROUP = {"White - Any other White background": 0.18, "White - Irish": 0.0,
                             "White - British": 0.001}
INTERPRETER_RATE_OTHER = 0.05
ENGLISH_RECORDED_RATE = 0.33


def address_lines(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `address_line` (house number and street) from person_idx and postcode."""
    key = frame.select(pl.concat_str(pl.col("person_idx").cast(pl.String), pl.lit("|"),
                                     pl.col("postcode").str.to_uppercase().str.replace_all(" ", ""))
                       .hash(seed=20)).to_series().to_numpy().astype(np.uint64)
    number = (key % 140 + 1).astype(str)
    street = STREETS[(key // 140 % len(STREETS)).astype(np.int64)]
    line = np.char.add(np.char.add(number, " "), street)
    return frame.with_columns(
        pl.when(pl.col("postcode").is_not_null()).then(pl.Series("address_line", line.tolist(), dtype=pl.String))
        .alias("address_line"))


def contact_need_events(people: pl.DataFrame, end_day: int, rng: np.random.Generator) -> pl.DataFrame:
    """gp.events rows (person_idx, day, snomed_code, value, unit) for recorded needs."""
    n = people.height
    group = people["ethnicity_group16"].to_list() if "ethnicity_group16" in people.columns else [None] * n
    rate = np.array([INTERPRETER_RATE_BY_GROUP.get(g, 0.01 if g.startswith("Mixed") else INTERPRETER_RATE_OTHER)
                     if g else 0.001 for g in group])
    adult = people["age"].to_numpy() >= 16
    alive_start = people["dob"].to_numpy().astype(np.int64)
    last = np.minimum(people["dod"].fill_null(end_day).to_numpy(), end_day).astype(np.int64)
    interpreter = (rng.random(n) < rate) & adult
    english = (rng.random(n) < ENGLISH_RECORDED_RATE) & ~interpreter
    frames = []
    for code, who in ((INTERPRETER_NEEDED, interpreter), (MAIN_LANGUAGE_ENGLISH, english)):
        idx = np.flatnonzero(who)
        lo = np.maximum(alive_start[idx], last[idx] - 5 * 365)
        day = lo + (rng.random(idx.size) * np.maximum(last[idx] - lo, 0)).astype(np.int64)
        frames.append(pl.DataFrame({"person_idx": idx.astype(np.int32), "day": day.astype(np.int32),
                                    "snomed_code": [code] * idx.size,
                                    "value": pl.Series([None] * idx.size, dtype=pl.Float64),
                                    "unit": pl.Series([None] * idx.size, dtype=pl.String)}))
    return pl.concat(frames)


def with_contact_needs(events: pl.DataFrame, people: pl.DataFrame, end_day: int,
                       rng: np.random.Generator) -> pl.DataFrame:
    """The generator's events with the contact-need events appended (same schema)."""
    extra = contact_need_events(people, end_day, rng)
    return pl.concat([events, extra.with_columns(pl.col("snomed_code").cast(events.schema["snomed_code"]),
                                                 pl.col("unit").cast(events.schema["unit"]))],
                     how="vertical_relaxed").filter(pl.col("day") <= end_day)
