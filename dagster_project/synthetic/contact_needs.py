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
  Accessible Information Standard (SCCI1605) needs, concept ids from NHS England's
  Reasonable Adjustment flag value set (see dbt seed outreach_contact_codes for the source):
    204331000000107 |British Sign Language interpreter needed| - 0.13% of people: the British
        Deaf Association's estimate of about 87,000 Deaf BSL users in a UK population of
        about 67 million;
    957331000000109 / 957351000000102 / 957371000000106 |Requires written information in at
        least 20 / 24 / 28 point sans serif font| (large print) - RNIB: about 1 in 5 people
        aged 75 and over and 1 in 10 aged 65-74 live with sight loss; practices record a
        format need for a minority of them (assumed 1 in 5), so 4% of 75+, 2% of 65-74 and
        0.2% of younger adults, 60/30/10 across the three point sizes;
    796161000000101 |Requires information in Easyread| - 0.5% of adults, the share on GP
        learning disability registers (QOF LD register, England, about 0.5-0.6%);
    936721000000107 / 795661000000104 / 936701000000103 |Requires contact by letter /
        telephone / short message service text message| - no published rate of recording
        was found: assumed 1% of adults for letter (2% of 75+), 0.5% for telephone, 0.5% for
        text message (adults under 65).
  Main spoken languages other than English and "do not contact" dissent are not generated:
  no public source of their concept ids was found, and no code is invented.
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
BSL_INTERPRETER_NEEDED = "204331000000107"
BSL_RATE = 0.0013
LARGE_PRINT = ("957331000000109", "957351000000102", "957371000000106")  # at least 20 / 24 / 28 point
LARGE_PRINT_SPLIT = (0.6, 0.3, 0.1)
LARGE_PRINT_RATE = ((75, 0.04), (65, 0.02), (16, 0.002))  # (from age, rate), oldest band first
EASY_READ = "796161000000101"
EASY_READ_RATE = 0.005
CONTACT_BY_LETTER, CONTACT_BY_TELEPHONE, CONTACT_BY_SMS = "936721000000107", "795661000000104", "936701000000103"
CONTACT_METHOD_RATE = {CONTACT_BY_LETTER: 0.01, CONTACT_BY_TELEPHONE: 0.005, CONTACT_BY_SMS: 0.005}


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
    coded = [(INTERPRETER_NEEDED, interpreter), (MAIN_LANGUAGE_ENGLISH, english), *ais_needs(people, rng)]
    frames = []
    for code, who in coded:
        idx = np.flatnonzero(who)
        lo = np.maximum(alive_start[idx], last[idx] - 5 * 365)
        day = lo + (rng.random(idx.size) * np.maximum(last[idx] - lo, 0)).astype(np.int64)
        frames.append(pl.DataFrame({"person_idx": idx.astype(np.int32), "day": day.astype(np.int32),
                                    "snomed_code": [code] * idx.size,
                                    "value": pl.Series([None] * idx.size, dtype=pl.Float64),
                                    "unit": pl.Series([None] * idx.size, dtype=pl.String)}))
    return pl.concat(frames)


def ais_needs(people: pl.DataFrame, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """(concept id, who has it recorded) for the Accessible Information Standard needs, at
    the rates of the module docstring; at most one contact method and one large-print size
    per person."""
    n = people.height
    age = people["age"].to_numpy()
    adult = age >= 16
    out = [(BSL_INTERPRETER_NEEDED, rng.random(n) < BSL_RATE)]
    lp_rate = np.zeros(n)
    for lo, r in reversed(LARGE_PRINT_RATE):  # youngest band first, older bands overwrite
        lp_rate = np.where(age >= lo, r, lp_rate)
    large = rng.random(n) < lp_rate
    size = rng.choice(len(LARGE_PRINT), size=n, p=LARGE_PRINT_SPLIT)
    out += [(code, large & (size == i)) for i, code in enumerate(LARGE_PRINT)]
    out.append((EASY_READ, (rng.random(n) < EASY_READ_RATE) & adult & ~large))
    u = rng.random(n)
    letter_rate = np.where(age >= 75, 2 * CONTACT_METHOD_RATE[CONTACT_BY_LETTER], CONTACT_METHOD_RATE[CONTACT_BY_LETTER])
    phone_rate = CONTACT_METHOD_RATE[CONTACT_BY_TELEPHONE]
    sms_rate = np.where(age < 65, CONTACT_METHOD_RATE[CONTACT_BY_SMS], 0.0)
    out += [(CONTACT_BY_LETTER, adult & (u < letter_rate)),
            (CONTACT_BY_TELEPHONE, adult & (u >= letter_rate) & (u < letter_rate + phone_rate)),
            (CONTACT_BY_SMS, adult & (u >= letter_rate + phone_rate) & (u < letter_rate + phone_rate + sms_rate))]
    return out


def with_contact_needs(events: pl.DataFrame, people: pl.DataFrame, end_day: int,
                       rng: np.random.Generator) -> pl.DataFrame:
    """The generator's events with the contact-need events appended (same schema)."""
    extra = contact_need_events(people, end_day, rng)
    return pl.concat([events, extra.with_columns(pl.col("snomed_code").cast(events.schema["snomed_code"]),
                                                 pl.col("unit").cast(events.schema["unit"]))],
                     how="vertical_relaxed").filter(pl.col("day") <= end_day)
