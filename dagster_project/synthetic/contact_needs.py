"""Contact needs and postal addresses for the synthetic GP record.

- `address_lines`: a house number and street per person and postcode (a move gives a new
  address with the new postcode). Streets are common English street names, not addresses
  of real people; the postcode is the synthetic person's real N&W postcode.
- `contact_need_events`: coded communication needs in gp.events at realistic rates, with
  real SNOMED CT concepts only:
    315594003 |Interpreter needed (finding)|  - about 1% overall in Norfolk, far commoner
        among people recorded as White - any other White background (Norfolk's Polish,
        Lithuanian, Portuguese and Latvian communities) and other non-British groups;
    Main spoken language (315570003 |Main spoken language English| and 18 other concepts,
        ids from the seed outreach_contact_codes, source cited there): whether a person's
        main language is not English depends on the ethnic group - White - any other White
        background 60%: the speakers of EU languages other than English in England, Census
        2021 TS024 (Polish 590,983, Romanian 465,933, Portuguese 221,076, Spanish 211,997,
        Italian 157,643, Lithuanian 117,876, Bulgarian 108,942, Hungarian 85,204, Greek 75,261,
        Latvian 37,871, ...: about 2.2 million) over the Other White population (6.2% of 59.6
        million in England and Wales, 2021, GOV.UK Ethnicity facts and figures) - a derived
        figure; Asian groups 32% (2011 Census: South Asian main languages 2.4% of residents,
        Asian groups 7.5%); Black, Arab and other groups 15% (African main languages 0.5%
        against Black groups 3.3%, 2011; group shares from Ethnicity facts and figures); Mixed 2%,
        White British and Irish 0.2% - the last two are ASSUMPTIONS. Everyone who needs an
        interpreter has a main language other than English. The language is drawn from the
        group's languages weighted by their England speakers (Census 2021 TS024 for the
        European languages; ONS 2021 bulletin Panjabi 291,000 and Urdu 270,000; 2011 Census
        Bengali 221,000, Gujarati 213,000, Arabic 159,000, French 147,000; Mandarin and
        Cantonese half each of the Chinese group - an assumption). With Norfolk's ethnic mix
        this gives about 3-4% of people a main language other than English (England 2021:
        9.2%; Norfolk is less diverse, no Norfolk figure per language is used). A main
        language is recorded for about a third of people, as practices do at registration,
        and always for those who need an interpreter.
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
  GP-recorded "do not contact by SMS / telephone" dissent is not generated: no public source
  of its concept ids was found, and no code is invented.
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
ENGLISH_RECORDED_RATE = 0.33  # share of people with a main spoken language recorded
# main spoken language concept ids (seed outreach_contact_codes) and England speakers
LANGUAGE_CODES = {"Polish": "315579002", "Romanian": "698678003", "Portuguese": "315580004",
                  "Spanish": "315584008", "Italian": "407642001", "Lithuanian": "407656004",
                  "Bulgarian": "699945003", "Hungarian": "698900008", "Greek": "407652002",
                  "Latvian": "698909009", "Punjabi": "315581000", "Urdu": "315588006", "Bengali": "315567002",
                  "Gujerati": "315572006", "Mandarin": "315578005", "Cantonese": "315568007",
                  "Arabic": "315566006", "French": "315571004"}
EUROPEAN = {"Polish": 590_983, "Romanian": 465_933, "Portuguese": 221_076, "Spanish": 211_997, "Italian": 157_643,
            "Lithuanian": 117_876, "Bulgarian": 108_942, "Hungarian": 85_204, "Greek": 75_261, "Latvian": 37_871}
SOUTH_ASIAN = {"Punjabi": 291_000, "Urdu": 270_000, "Bengali": 221_000, "Gujerati": 213_000}
CHINESE = {"Mandarin": 1, "Cantonese": 1}
OTHER = {"Arabic": 159_000, "French": 147_000, "Portuguese": 221_076}
# (share whose main language is not English, language weights) by 16-group ethnicity prefix
MAIN_LANGUAGE_BY_GROUP = (("White - Any other White background", 0.60, EUROPEAN),
                          ("White", 0.002, EUROPEAN),
                          ("Other Ethnic Groups - Chinese", 0.32, CHINESE),
                          ("Asian", 0.32, SOUTH_ASIAN),
                          ("Mixed", 0.02, OTHER),
                          ("", 0.15, OTHER))  # Black, Arab and other groups
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
    language = main_languages(group, interpreter, rng)
    recorded = interpreter | (rng.random(n) < ENGLISH_RECORDED_RATE)
    coded = [(INTERPRETER_NEEDED, interpreter), (MAIN_LANGUAGE_ENGLISH, recorded & (language == "English")),
             *[(code, recorded & (language == name)) for name, code in LANGUAGE_CODES.items()],
             *ais_needs(people, rng)]
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


def main_languages(group: list[str | None], interpreter: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each person's main spoken language ("English" or a key of LANGUAGE_CODES), by
    ethnic group at the MAIN_LANGUAGE_BY_GROUP rates; a person who needs an interpreter
    always has another main language."""
    n = len(group)
    out = np.full(n, "English", dtype=object)
    u = rng.random(n)
    pick = rng.random(n)
    for i, g in enumerate(group):
        g = g or "White - British"
        share, weights = next((s, w) for prefix, s, w in MAIN_LANGUAGE_BY_GROUP if g.startswith(prefix))
        if interpreter[i] or u[i] < share:
            names = list(weights)
            cum = np.cumsum([weights[k] for k in names]) / sum(weights.values())
            out[i] = names[min(int(np.searchsorted(cum, pick[i], side="right")), len(names) - 1)]
    return out


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
