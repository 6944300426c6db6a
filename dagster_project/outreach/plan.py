"""One conversation per person, a channel by rule, and dated worklists within capacity
(pure functions over polars frames; files and Dagster in `outreach.publish`).

A release date's projects become one outreach plan:

1. `conversations`: everyone in any project's release of the date appears once, with every
   reason ("Flu vaccination: aged 65 or over; ..."), at the practice of their highest-need
   project. Need, highest first: more projects first (one call settles several), then the
   best relative priority rank within the practice (rank / practice cohort size, so a
   project's small practice lists do not outrank a larger one's top), carried-over people
   ahead of newcomers of the same need, then pseudo_id (reproducible).
2. `hold_back`: no new contact within `fatigue_days` of the person's last contact (any
   project, from outreach outcomes): those rows stay in the plan as `held_back_fatigue`.
3. `choose_channel`, by rule, per person, first that applies:
   - the person asked the outreach team not to be contacted (outcome `do_not_contact`, any
     earlier contact): no channel, status `do_not_contact` - a standing preference, honoured
     by every later plan; `no_calls` / `no_texts` remove that channel only;
   - a contact method the person requires (Accessible Information Standard, SCCI1605:
     936721000000107 |Requires contact by letter|, 795661000000104 |... by telephone|,
     936701000000103 |... by short message service text message|), where possible;
   - British Sign Language interpreter needed (204331000000107): never a voice call - a text
     message to a mobile, else a letter;
   - interpreter needed (SNOMED CT 315594003 |Interpreter needed| recorded) -> a phone call
     with an interpreter when a number is usable, else a letter (an English text message
     is not accessible to them);
   - a main spoken language other than English recorded (e.g. 315579002 |Main spoken
     language Polish|) without an interpreter record: the same - a call with an interpreter
     of that language, else a letter, the language on the row (the record does not say how
     well the person speaks English, so the team is told rather than left to find out);
   - several reasons and a usable number -> phone (one conversation settles them);
   - the top project's channels in registry order (projects.yaml `channels`), each only
     where possible: phone = a dialable UK number not reported wrong and whose last call
     was answered; sms = a mobile number not reported wrong; letter = an address line and
     postcode in the identity zone;
   - else any possible channel (phone, sms, letter), else no contact route (status
     `no_contact_route`, contact not found).
   A letter is printed in the format the person needs (`letter_format`: large print for
   957331000000109 / 957351000000102 / 957371000000106 |Requires written information in at
   least 20 / 24 / 28 point sans serif font|, Easyread for 796161000000101).
4. `schedule`: per channel, people in need order fill each working day's capacity; the
   rest carry to the next working day; beyond the horizon they are `carried_over` into the
   next release's plan.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from dagster_project.cohorts.contacts import phone_kind  # noqa: F401  (re-exported for callers)

CONFIG = Path(__file__).with_name("outreach.yaml")
CHANNELS = ("phone", "sms", "letter")
# AIS information format -> what the mail-merge prints
LETTER_FORMATS = {"large_print": "large print (at least 20 point sans serif)", "easy_read": "Easyread"}
SCHEDULED, CARRIED, FATIGUE, NO_ROUTE = "scheduled", "carried_over", "held_back_fatigue", "no_contact_route"
DO_NOT_CONTACT = "do_not_contact"


@dataclass(frozen=True)
class OutreachConfig:
    capacity: dict[str, int]
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    horizon_days: int = 28
    fatigue_days: int = 28
    sms_templates: dict[str, str] = field(default_factory=dict)
    default_sms_template: str = "PNOW-GEN-01"
    reference_population: int | None = None

    def capacity_for(self, population: int) -> dict[str, int]:
        """Daily capacity per channel for an ICS of `population` registered people: the
        configured team capacity is for `reference_population` people; a smaller or larger
        ICS gets the same capacity per head (at least one contact a day per channel)."""
        if not self.reference_population:
            return dict(self.capacity)
        return {ch: max(1, math.ceil(n * population / self.reference_population)) if n else 0
                for ch, n in self.capacity.items()}

    def template(self, project: str) -> str:
        return self.sms_templates.get(project, self.default_sms_template)


def load_config(path: Path = CONFIG) -> OutreachConfig:
    raw = yaml.safe_load(path.read_text())
    capacity = {str(k): int(v) for k, v in raw["capacity"].items()}
    bad = [f"{k}={v}" for k, v in capacity.items() if k not in CHANNELS or v < 0]
    if bad or set(capacity) != set(CHANNELS):
        raise ValueError(f"{path}: capacity needs a non-negative daily number for each of {CHANNELS} (got {bad or capacity})")
    return OutreachConfig(capacity=capacity, working_days=tuple(int(d) for d in raw.get("working_days", (0, 1, 2, 3, 4))),
                          horizon_days=int(raw.get("horizon_days", 28)), fatigue_days=int(raw.get("fatigue_days", 28)),
                          sms_templates={str(k): str(v) for k, v in (raw.get("sms_templates") or {}).items()},
                          default_sms_template=str(raw.get("default_sms_template", "PNOW-GEN-01")),
                          reference_population=int(raw["reference_population"]) if raw.get("reference_population") else None)


# --------------------------------------------------------------------------- 1. conversations
def conversations(releases: pl.DataFrame, carried: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per person from the releases of one date.

    releases: project, title, pseudo_id, practice_code, priority_rank, reasons.
    carried: pseudo_id of people carried over from the previous plan (optional)."""
    sizes = releases.group_by("project", "practice_code").agg(pl.len().alias("_n"))
    rows = releases.join(sizes, on=["project", "practice_code"]).with_columns(
        (pl.col("priority_rank") / pl.col("_n")).alias("relative_rank"),
        pl.concat_str(pl.col("title"), pl.lit(": "), pl.col("reasons").fill_null("")).alias("_reason"),
    ).sort("pseudo_id", "relative_rank", "project")
    people = rows.group_by("pseudo_id", maintain_order=True).agg(
        pl.col("practice_code").first(),
        pl.col("project").first().alias("top_project"),
        pl.col("project").alias("projects"),
        pl.col("_reason").str.join("; ").alias("reasons"),
        pl.len().alias("n_projects"),
        pl.col("relative_rank").min().alias("relative_rank"),
    )
    carried_ids = carried["pseudo_id"].to_list() if carried is not None and carried.height else []
    return people.with_columns(pl.col("pseudo_id").is_in(carried_ids).alias("carried_over")).sort(
        ["n_projects", "relative_rank", "carried_over", "pseudo_id"], descending=[True, False, True, False]
    ).with_columns((pl.int_range(pl.len()) + 1).cast(pl.Int32).alias("need_rank"))


# --------------------------------------------------------------------------- 2. fatigue
def hold_back(plan: pl.DataFrame, last_contacts: pl.DataFrame, run_date: str, fatigue_days: int) -> pl.DataFrame:
    """Mark people contacted within `fatigue_days` before the run date (last_contacts:
    pseudo_id, last_contact_date) as held back."""
    cutoff = dt.date.fromisoformat(run_date) - dt.timedelta(days=fatigue_days)
    recent = last_contacts.filter(pl.col("last_contact_date") > cutoff)["pseudo_id"].to_list()
    return plan.with_columns(pl.col("pseudo_id").is_in(recent).alias("recently_contacted"))


# --------------------------------------------------------------------------- optional columns
def optional(plan: pl.DataFrame, name: str, absent: pl.Expr) -> pl.Expr:
    """The plan's column, or `absent` when the plan has none (an optional column)."""
    return pl.col(name) if name in plan.columns else absent


def flag(plan: pl.DataFrame, name: str) -> pl.Expr:
    """The plan's flag column, or False when absent; a null is False."""
    return optional(plan, name, pl.lit(False)).fill_null(False)


# --------------------------------------------------------------------------- 3. channel
def choose_channel(plan: pl.DataFrame) -> pl.DataFrame:
    """Adds channel (phone / sms / letter / null), channel_reason, interpreter_needed (an
    interpreter record or a main language other than English), language (the main spoken
    language when not English), bsl_interpreter_needed and letter_format.

    plan needs: phone, address_line, postcode, interpreter_needed (bool, may be null),
    optionally required_contact_method (letter / telephone / sms / null),
    bsl_interpreter_needed (bool) and information_format (large_print / easy_read / null),
    phone_failed (the number was reported wrong), phone_unanswered (the last call was not
    answered), do_not_contact / no_calls / no_texts (the person asked the outreach team not
    to be contacted at all / by phone / by text: outreach outcomes), n_projects and preferred (list: the top project's channels in registry
    order; null = phone, sms, letter)."""
    kind = phone_kind(pl.col("phone"))
    failed = pl.col("phone_failed").fill_null(False)
    unanswered = flag(plan, "phone_unanswered")
    coded_interpreter = pl.col("interpreter_needed").fill_null(False)
    language = optional(plan, "main_language", pl.lit(None, pl.String))
    other_language = (language.is_not_null() & (language != "English")).fill_null(False)
    interpreter = coded_interpreter | other_language
    bsl = flag(plan, "bsl_interpreter_needed")
    required = optional(plan, "required_contact_method", pl.lit(None, pl.String))
    dnc = flag(plan, "do_not_contact")
    can = {
        # a Deaf BSL user is not phoned (a voice call without an interpreter is not accessible)
        "phone": kind.is_not_null() & ~failed & ~unanswered & ~bsl & ~flag(plan, "no_calls"),
        # an English text is not accessible to someone who needs an interpreter
        "sms": (kind == "mobile") & ~failed & ~interpreter & ~flag(plan, "no_texts"),
        "letter": pl.col("address_line").is_not_null() & pl.col("postcode").is_not_null(),
    }
    preferred = optional(plan, "preferred", pl.lit(None, pl.List(pl.String)))
    preferred = preferred.fill_null(pl.lit(list(CHANNELS), pl.List(pl.String)))
    several = optional(plan, "n_projects", pl.lit(1)).fill_null(1) > 1
    rules: list[tuple[pl.Expr, str, str]] = [
        ((required == "letter") & can["letter"], "letter", "requires contact by letter (AIS)"),
        ((required == "telephone") & can["phone"], "phone", "requires contact by telephone (AIS)"),
        ((required == "sms") & can["sms"], "sms", "requires contact by text message (AIS)"),
        (bsl & can["sms"], "sms", "BSL interpreter needed: text message, not a voice call"),
        (bsl & can["letter"], "letter", "BSL interpreter needed, no mobile: letter"),
        (coded_interpreter & can["phone"], "phone", "interpreter needed: call with an interpreter"),
        (coded_interpreter & can["letter"], "letter", "interpreter needed, no usable number: letter"),
        (other_language & can["phone"], "phone", "main spoken language not English: call with an interpreter"),
        (other_language & can["letter"], "letter", "main spoken language not English, no usable number: letter"),
        (several & can["phone"], "phone", "several reasons: one call settles them"),
    ]
    for i in range(len(CHANNELS)):
        for ch in CHANNELS:
            rules.append(((preferred.list.get(i, null_on_oob=True) == ch) & can[ch], ch,
                          f"project's choice {i + 1}: {ch}"))
    for ch in CHANNELS:
        rules.append((can[ch], ch, f"only {ch} is possible"))
    # asked not to be contacted: no channel at all, whatever else is possible
    channel = pl.when(dnc).then(pl.lit(None, pl.String))
    reason = pl.when(dnc).then(pl.lit("asked not to be contacted (outreach outcome)"))
    for cond, ch, why in rules:
        channel, reason = channel.when(cond).then(pl.lit(ch)), reason.when(cond).then(pl.lit(why))
    fmt = optional(plan, "information_format", pl.lit(None, pl.String))
    return plan.with_columns(channel.otherwise(pl.lit(None, pl.String)).alias("channel"),
                             reason.otherwise(pl.lit("no usable phone number or address")).alias("channel_reason"),
                             interpreter.alias("interpreter_needed"),
                             pl.when(other_language).then(language).otherwise(pl.lit(None, pl.String)).alias("language"),
                             bsl.alias("bsl_interpreter_needed"),
                             fmt.replace_strict(LETTER_FORMATS, default=None, return_dtype=pl.String)
                             .alias("letter_format"))


# --------------------------------------------------------------------------- 4. capacity
def working_days(start: dt.date, horizon_days: int, weekdays: tuple[int, ...]) -> list[dt.date]:
    """Working days from `start` (inclusive) for `horizon_days` calendar days."""
    return [d for d in (start + dt.timedelta(days=i) for i in range(horizon_days)) if d.weekday() in weekdays]


def schedule(plan: pl.DataFrame, capacity: dict[str, int], days: list[dt.date]) -> pl.DataFrame:
    """Adds worklist_date (null when not scheduled) and status.

    Rows with a channel and not held back are taken in need_rank order per channel; each
    working day takes up to its capacity, the rest carry to the next day and, past the
    last day, over to the next plan (`carried_over`)."""
    eligible = pl.col("channel").is_not_null() & ~pl.col("recently_contacted").fill_null(False)
    ordered = plan.sort("need_rank").with_columns(
        pl.when(eligible).then(pl.int_range(pl.len()).over(pl.when(eligible).then(pl.col("channel")))).alias("_slot"))
    cap = pl.col("channel").replace_strict(capacity, default=0, return_dtype=pl.Int64)
    calendar = pl.DataFrame({"_day": list(range(len(days))), "worklist_date": days},
                            schema={"_day": pl.Int64, "worklist_date": pl.Date})
    out = ordered.with_columns(pl.when(cap > 0).then(pl.col("_slot") // cap).cast(pl.Int64).alias("_day")) \
        .join(calendar, on="_day", how="left", maintain_order="left")
    dnc = flag(plan, "do_not_contact")
    status = (pl.when(dnc).then(pl.lit(DO_NOT_CONTACT))
              .when(pl.col("recently_contacted").fill_null(False)).then(pl.lit(FATIGUE))
              .when(pl.col("channel").is_null()).then(pl.lit(NO_ROUTE))
              .when(pl.col("worklist_date").is_not_null()).then(pl.lit(SCHEDULED))
              .otherwise(pl.lit(CARRIED)))
    return out.with_columns(status.alias("status")).drop("_slot", "_day")
