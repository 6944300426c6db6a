"""Governed publication of one Protect NoW project's release (plain functions, no Dagster).

Write-audit-publish, as the raw zone does:

1. read the cohort as of the warehouse's reference date (pseudonymised marts only),
   stratify and rank it within practice (registry rules), summarise it with small-number
   suppression, and write the release - cohort.parquet, evidence.parquet, summary.csv,
   report.html, release.json and, for practices that approved re-identification,
   direct_care/<practice_code>.csv (from the identity zone), and inputs.json (every input by
   SHA-256, so the release can be rebuilt byte for byte: cohorts/inputs.py) - into a staging folder
   `published/<project>/.staging-<run_date>-<id>/`;
2. gate it: the Great Expectations suite (expectations/<suite>.json), an identifier scan of
   everything pseudonymised, no opted-out person, suppression applied, call lists one for
   one with the cohort;
3. only if every gate passed: swap the folder in as `published/<project>/<run_date>/` and
   then move `published/<project>/latest.json` (os.replace: readers see the old pointer or
   the new one). A failed gate moves the staging folder to `.failed/` with its gate report
   and leaves `latest.json` and any earlier release of the date exactly as they were.

Every attempt is appended to `published/audit_log.jsonl` (who, what, when, how many,
which project, which practices).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from dagster_project.cohorts import contacts, disclosure, inputs, report, rules
from dagster_project.cohorts import uptake as uptake_of
from dagster_project.cohorts.registry import Project
from dagster_project.lib.audit_who import who_from_tags
from dagster_project.lib.files import sha256_file, write_json_atomic
from dagster_project.lib.identifiers import RELEASE_IDENTIFIER_COLUMN
from dagster_project.lib.nhs_number import is_valid
from dagster_project.lib.zones import Zones
from dagster_project.linkage.pipeline import OPT_OUTS
from dagster_project.quality.engine import run_suite
from dagster_project.quality.suite import load_suite

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
AUDIT_LOG = "audit_log.jsonl"
LATEST = inputs.LATEST
DISCLOSURE_FILE = "disclosure.json"
UPTAKE = "uptake.csv"
COHORT_COLUMNS = ["project", "pseudo_id", "practice_code", "pcn_code", "stratum", "priority_rank",
                  "eligibility_group", "reasons", "reason_ids", "reference_date"]
SUMMARY_DIMENSIONS = ["overall", "stratum", "practice_code", "pcn_code", "imd_quintile",
                      "ethnicity_group", "age_band", "core20"]
POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b")
PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+44\s?|0)(?:\d\s?){9,10}(?![0-9A-Za-z])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
TEN_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d{10}(?![0-9A-Za-z])")


class ReleaseBlocked(RuntimeError):
    """A gate failed: the release was not published and `latest` did not move."""

    def __init__(self, project: str, run_date: str, failed: list[GateResult], where: Path,
                 gates: list[GateResult] | None = None):
        self.failed, self.where, self.gates = failed, where, gates or failed
        lines = "; ".join(f"{g.gate}: {g.detail}" for g in failed)
        super().__init__(f"release {project} {run_date} blocked ({lines}); staged files kept in {where}; "
                         "latest.json unchanged. Fix the cause and re-materialise the partition.")


@dataclass
class GateResult:
    gate: str
    passed: bool
    detail: str


@dataclass
class Release:
    project: str
    run_date: str
    path: Path
    cohort_rows: int
    population: int
    core20_rows: int
    practices_with_call_lists: list[str]
    call_list_rows: int
    gates: list[GateResult] = field(default_factory=list)
    unchanged_since: str | None = None  # not republished: the release it would have repeated

    @property
    def report(self) -> Path:
        return self.path / "report.html"

    @property
    def core20_share(self) -> float:
        return self.core20_rows / self.cohort_rows if self.cohort_rows else 0.0


# --------------------------------------------------------------------------- read
def read_cohort(warehouse: Path, project: Project) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, str]:
    """(cohort with stratification attributes, evidence, eligible population, reference date)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        reference_date = con.sql("select max(reference_date) from intermediate.int_cohort_population").fetchone()[0]
        attributes = """
            population.pcn_code, population.imd_quintile, population.is_core20,
            population.ethnicity_group, population.age_band, population.age,
            coalesce(risk.risk_tier, 'not scored') as risk_tier,
            coalesce(risk.risk_probability, 0) as risk_probability,
            segmentation.segment_code as segment"""
        cohort = con.sql(f"""
            select cohort.pseudo_id, cohort.practice_code, cohort.eligibility_group,
                   cohort.clinical_priority, cohort.reasons, cohort.reason_ids,
                   cohort.reference_date, {attributes}
            from marts.{project.model} as cohort
            inner join intermediate.int_cohort_population as population using (pseudo_id)
            left join marts.mart_risk as risk using (pseudo_id)
            left join marts.mart_segmentation as segmentation using (pseudo_id)
        """).pl()
        evidence = con.sql(f"select * from marts.{project.evidence_model}").pl()
        population = con.sql("""
            select pseudo_id, practice_code, pcn_code, imd_quintile, is_core20, ethnicity_group, age_band
            from intermediate.int_cohort_population""").pl()
        # the right denominator: the project's eligible population where the warehouse
        # defines it (marts.mart_outreach_eligible_population), else everyone registered
        if con.sql("select count(*) from information_schema.tables where table_schema = 'marts' "
                   "and table_name = 'mart_outreach_eligible_population'").fetchone()[0]:
            eligible = con.execute("select distinct pseudo_id from marts.mart_outreach_eligible_population "
                                   "where project = ?", [project.id]).pl()
            if eligible.height:
                # kept beside everyone registered: the gates still measure against all
                population = population.with_columns(
                    pl.col("pseudo_id").is_in(eligible["pseudo_id"].implode()).alias("is_eligible"))
    finally:
        con.close()
    if reference_date is None:
        raise RuntimeError(f"the warehouse at {warehouse} has no population: build it first")
    return cohort, evidence, population, reference_date.isoformat()


# --------------------------------------------------------------------------- stratify, rank
def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col("is_core20")).then(pl.lit("Core20")).otherwise(pl.lit("not Core20")).alias("core20"),
        pl.concat_str(pl.lit("IMD "), pl.col("imd_quintile").cast(pl.String).fill_null("unknown")).alias("imd_label"),
    )


def stratify_and_rank(cohort: pl.DataFrame, project: Project) -> pl.DataFrame:
    """Stratum (registry stratify_by, joined with ' x ') and priority rank within practice
    (registry priority keys, first decides; ties by pseudo_id, so the order is reproducible)."""
    frame = _labelled(cohort)
    parts = []
    for column in project.stratify_by:
        if column == "imd_quintile":
            parts.append(pl.col("imd_label"))
        elif column == "risk_tier":
            parts.append(pl.concat_str(pl.lit("risk "), pl.col("risk_tier")))
        else:
            parts.append(pl.col(column).cast(pl.String).fill_null("unknown"))
    frame = frame.with_columns(pl.concat_str(parts, separator=" x ").alias("stratum"))
    columns = [k.column for k in project.priority] + ["pseudo_id"]
    descending = [k.descending for k in project.priority] + [False]
    frame = frame.sort(columns, descending=descending, nulls_last=True)
    return frame.with_columns(
        (pl.int_range(pl.len()).over("practice_code") + 1).cast(pl.Int32).alias("priority_rank"),
        pl.lit(project.id).alias("project"),
    ).sort("practice_code", "priority_rank")


# --------------------------------------------------------------------------- summary
def summarise(ranked: pl.DataFrame, population: pl.DataFrame, suppress_below: int,
              nests: dict | None = None) -> pl.DataFrame:
    """Cohort size per stratum, practice, PCN, IMD quintile, ethnicity group, age band and
    Core20, with the group's eligible population and the gap (cohort per 1,000 people in the
    group); counts 1..suppress_below-1 (and rates built on them) shown as 'suppressed'."""
    cohort = _labelled(ranked)
    people = _labelled(population)
    rows = []
    for dimension in SUMMARY_DIMENSIONS:
        col = {"imd_quintile": "imd_label"}.get(dimension, dimension)
        if dimension == "overall":
            c = cohort.select(pl.lit("all").alias("group"), pl.len().alias("cohort"))
            p = people.select(pl.lit("all").alias("group"), pl.len().alias("population"))
        elif dimension == "stratum":
            c = cohort.group_by(pl.col("stratum").alias("group")).agg(pl.len().alias("cohort"))
            p = None
        else:
            c = cohort.group_by(pl.col(col).cast(pl.String).fill_null("unknown").alias("group")).agg(pl.len().alias("cohort"))
            p = people.group_by(pl.col(col).cast(pl.String).fill_null("unknown").alias("group")).agg(pl.len().alias("population"))
        joined = c if p is None else p.join(c, on="group", how="left").with_columns(pl.col("cohort").fill_null(0))
        if "population" not in joined.columns:
            joined = joined.with_columns(pl.lit(None, pl.UInt32).alias("population"))
        rows.append(joined.select(pl.lit(dimension).alias("dimension"), pl.col("group").cast(pl.String),
                                  pl.col("cohort").cast(pl.Int64), pl.col("population").cast(pl.Int64)))
    summary = pl.concat(rows).sort("dimension", "group")
    # primary and secondary suppression: no hidden count can be derived from the totals or
    # from another breakdown (practice in PCN, stratum in IMD quintile): cohorts/disclosure.py
    nests = nests if nests is not None else summary_nesting(cohort, people)
    published, _ = disclosure.suppress_summary(summary, suppress_below, nests)
    # 95% confidence interval of the gap (Wilson score, per 1,000 of the eligible population),
    # hidden wherever the count, the population or the rate is hidden
    ci = [f"{1000 * lo:.1f}-{1000 * hi:.1f}" if n and x is not None and 0 <= x <= n else ""
          for x, n in zip(summary["cohort"], summary["population"])
          for lo, hi in [uptake_of.wilson(x, n) if n and x is not None and 0 <= x <= n else (0.0, 0.0)]]
    cis = summary.select("dimension", pl.col("group").cast(pl.String)).with_columns(
        pl.Series("ci95_per_1000", ci, dtype=pl.String))
    hidden = pl.any_horizontal(pl.col(c).cast(pl.String) == disclosure.SUPPRESSED
                               for c in ("cohort", "population", "cohort_per_1000"))
    return published.join(cis, on=["dimension", "group"], how="left").with_columns(
        pl.when(hidden).then(pl.lit(disclosure.SUPPRESSED)).otherwise(pl.col("ci95_per_1000").fill_null(""))
        .alias("ci95_per_1000"))


def summary_nesting(cohort: pl.DataFrame, people: pl.DataFrame) -> dict:
    """Which summary breakdowns nest in which (for disclosure control), per count column."""
    columns = {d: {"imd_quintile": "imd_label"}.get(d, d) for d in SUMMARY_DIMENSIONS if d != "overall"}
    labelled = [f if "imd_label" in f.columns else _labelled(f) for f in (cohort, people)]
    return {"cohort": disclosure.nesting(labelled[0], columns), "population": disclosure.nesting(labelled[1], columns)}


# --------------------------------------------------------------------------- gates
def identifier_problems(frame: pl.DataFrame, where: str) -> list[str]:
    """Direct identifiers in a pseudonymised file: identifier-like column names, or values
    that look like NHS numbers (10 digits passing modulus 11), postcodes, phone numbers or
    e-mail addresses."""
    problems = [f"{where}: column {c!r} is named like an identifier" for c in frame.columns
                if RELEASE_IDENTIFIER_COLUMN.search(c.lower())]
    for name, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        values = frame[name].drop_nulls().unique().to_list()
        for label, test in (
            ("NHS-number-like", lambda v: any(is_valid(m) for m in TEN_DIGITS.findall(v))),
            ("postcode-like", lambda v: POSTCODE.search(v.upper()) is not None),
            ("phone-like", lambda v: PHONE.search(v) is not None),
            ("e-mail-like", lambda v: EMAIL.search(v) is not None),
        ):
            hits = [v for v in values if test(v)]
            if hits:
                problems.append(f"{where}: column {name!r} holds {len(hits)} {label} value(s)")
    return problems


def run_gates(zones: Zones, project: Project, staging: Path, ranked: pl.DataFrame,
              population_rows: int, call_lists: dict[str, pl.DataFrame]) -> list[GateResult]:
    gates: list[GateResult] = []
    cohort = pl.read_parquet(staging / "cohort.parquet")
    suite = load_suite(EXPECTATIONS_DIR / f"{project.suite}.json")
    max_rows = int(project.max_cohort_share * population_rows)
    outcome = run_suite(cohort, suite, parameters={"max_rows": max_rows})
    gates.append(GateResult(
        "great_expectations", outcome.passed,
        "; ".join(o.summary() for o in outcome.blocking_failures) or f"{len(outcome.outcomes)} expectations met"))

    problems: list[str] = []
    for name in ("cohort.parquet", "evidence.parquet"):
        problems += identifier_problems(pl.read_parquet(staging / name), name)
    problems += identifier_problems(pl.read_csv(staging / "summary.csv", infer_schema_length=0), "summary.csv")
    if (staging / UPTAKE).exists():
        problems += identifier_problems(pl.read_csv(staging / UPTAKE, infer_schema_length=0), UPTAKE)
    html = (staging / "report.html").read_text()
    if any(is_valid(m) for m in TEN_DIGITS.findall(html)) or EMAIL.search(html):
        problems.append("report.html: holds NHS-number-like or e-mail-like text")
    gates.append(GateResult("no_direct_identifiers", not problems, "; ".join(problems) or "none found"))

    opt_path = zones.identity / OPT_OUTS
    opted = set(pl.read_parquet(opt_path)["pseudo_id"]) if opt_path.exists() else set()
    hits = cohort.filter(pl.col("pseudo_id").is_in(list(opted))).height
    gates.append(GateResult("no_opted_out_people", hits == 0,
                            f"{hits} cohort row(s) with a national data opt-out" if hits else
                            f"checked against {len(opted)} opt-outs"))

    summary = pl.read_csv(staging / "summary.csv", infer_schema_length=0)
    leaked = summary.filter(pl.any_horizontal(
        disclosure.small_expr(pl.col(c).cast(pl.Int64, strict=False), project.suppress_below)
        for c in ("cohort", "population"))).height
    if (staging / UPTAKE).exists():
        uptake = pl.read_csv(staging / UPTAKE, infer_schema_length=0)
        leaked += uptake.filter(pl.any_horizontal(
            disclosure.small_expr(pl.col(c).cast(pl.Int64, strict=False), project.suppress_below)
            for c in ("people", "took_up", "accepted_offer"))).height
    gates.append(GateResult("small_numbers_suppressed", leaked == 0,
                            f"{leaked} summary row(s) show a count 1-{project.suppress_below - 1}" if leaked
                            else f"counts 1-{project.suppress_below - 1} suppressed"))
    found = disclosure.recoverable(summary, disclosure.read_equations(staging / DISCLOSURE_FILE))
    gates.append(GateResult(
        "no_suppressed_cell_recoverable", not found,
        f"{len(found)} suppressed cell(s) derivable from totals or other breakdowns: "
        + ", ".join(f"{c} {d}={g}" for c, d, g in sorted(found)) if found
        else "no suppressed cell can be derived from the release (disclosure.json relations)"))

    if call_lists:
        missing = [k for k, v in approval(project, {}).items() if not v]
        gates.append(GateResult("reidentification_approved", not missing,
                                f"call lists without {missing} (projects.yaml release.approval)" if missing
                                else "approval reference and purpose recorded"))

    mismatched = []
    for practice, rows in call_lists.items():
        expected = ranked.filter(pl.col("practice_code") == practice)["priority_rank"].sort().to_list()
        if sorted(rows["priority"].to_list()) != expected:
            mismatched.append(practice)
    gates.append(GateResult("call_lists_match_cohort", not mismatched,
                            f"call lists differ from the cohort for {mismatched}" if mismatched
                            else f"{len(call_lists)} call list(s), one row per cohort row"))
    return gates


# --------------------------------------------------------------------------- files
def append_audit(zones: Zones, entry: dict) -> None:
    """One JSON line per release attempt, appended and flushed to disk."""
    zones.published.mkdir(parents=True, exist_ok=True)
    with open(zones.published / AUDIT_LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, default=str, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_audit_log(zones: Zones) -> list[dict]:
    path = zones.published / AUDIT_LOG
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def latest(zones: Zones, project_id: str) -> dict | None:
    path = zones.published / project_id / LATEST
    return json.loads(path.read_text()) if path.exists() else None


def earlier_summaries(zones: Zones, project_id: str, before: str) -> list[tuple[str, pl.DataFrame]]:
    """(run_date, summary) of the project's published releases before `before`, oldest first."""
    root = zones.published / project_id
    found = []
    for folder in sorted(root.glob("????-??-??")) if root.exists() else []:
        if folder.name < before and (folder / "summary.csv").exists():
            found.append((folder.name, pl.read_csv(folder / "summary.csv", infer_schema_length=0)))
    return found


def approved_practices(warehouse: Path) -> set[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {p for (p,) in con.sql(
            "select practice_code from staging.stg_reference__practices where is_direct_care_approved").fetchall()}
    finally:
        con.close()


def _who(run_id: str | None, who: dict | None = None) -> dict:
    """Who released it: the run's user or OS account and its trigger (lib/audit_who.py)."""
    return {"run_id": run_id, **(who or who_from_tags({}))}


def approval(project: Project, who: dict) -> dict:
    """Approval reference and purpose of a re-identification: the run's tags, else the registry."""
    registered = (project.extra or {}).get("approval") or {}
    return {"approval_ref": who.get("approval_ref") or registered.get("reference"),
            "purpose": who.get("purpose") or registered.get("purpose")}


# --------------------------------------------------------------------------- publish
def unchanged_release(zones: Zones, project: Project, fingerprint: dict) -> Release | None:
    """The release latest.json points at, when its recorded fingerprint equals this one."""
    current = inputs.current_release(zones, project.id)
    if current is None or (current[1].get(inputs.FINGERPRINT) or {}).get("digest") != fingerprint["digest"]:
        return None
    folder, _ = current
    made = json.loads((folder / "release.json").read_text())
    lists = sorted((folder / "direct_care").glob("*.csv")) if (folder / "direct_care").is_dir() else []
    return Release(project.id, made["run_date"], folder, made["cohort_rows"], made["population"],
                   made["core20_rows"], [p.stem for p in lists],
                   sum(pl.read_csv(p, infer_schema_length=0).height for p in lists),
                   [GateResult(**g) for g in made["gates"]],
                   unchanged_since=f"{project.id}/{made['run_date']} (published {made['created_at']}, "
                                   f"run {made.get('run_id')})")


def publish_project(zones: Zones, project: Project, run_id: str | None = None,
                    gate_hook=None, who: dict | None = None, force: bool = False) -> Release:
    """Build, gate and publish one project's release as of the warehouse's reference date.

    Unless `force`, a release whose inputs (inputs.fingerprint: the warehouse rows it reads,
    identity versions, earlier releases, registry entry, code) equal those of the release
    latest.json points at is not published again: that release is returned with
    `unchanged_since` set and the attempt is logged as `unchanged`.
    `gate_hook(gates) -> gates` lets a test force a gate failure. Raises ReleaseBlocked when
    a gate fails (after logging the attempt)."""
    warehouse = zones.warehouse_db
    cohort, evidence, population, run_date = read_cohort(warehouse, project)
    used = inputs.release_inputs(zones, project, run_date, warehouse)  # before anything is read
    rule_status = rules.rule_status(warehouse, project.id, project.model, project.suppress_below)
    # uptake after contact among the people of the previous release (outcomes loop)
    previous_run, uptake = uptake_of.for_release(zones.published, warehouse, project.id, run_date)
    approved = approved_practices(warehouse) if project.direct_care else set()
    used[inputs.FINGERPRINT] = inputs.fingerprint(
        project, run_date, used, {"cohort": cohort, "evidence": evidence, "population": population,
                                  "uptake": uptake},
        {"rule_status": rule_status, "approved_practices": sorted(approved), "previous_run": previous_run})
    same = None if force else unchanged_release(zones, project, used[inputs.FINGERPRINT])
    if same is not None:
        append_audit(zones, {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **_who(run_id, who),
                             "project": project.id, "run_date": run_date, "what": "pseudonymised_release",
                             "status": "unchanged", "unchanged_since": same.unchanged_since,
                             "path": str(same.path)})
        return same
    ranked = stratify_and_rank(cohort, project)
    eligible = population.filter(pl.col("is_eligible")) if "is_eligible" in population.columns else population
    eligible = eligible.drop("is_eligible", strict=False)
    # one nesting for protection and for the gate: the gate attacks exactly the relations
    # suppression defended (those of the eligible population, a superset of the registered one's)
    nests = summary_nesting(ranked, eligible)
    summary = summarise(ranked, eligible, project.suppress_below, nests)
    root = zones.published / project.id
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".staging-{run_date}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()

    # deterministic files (a rebuild from inputs.json must match byte for byte): stable row
    # order (the warehouse returns rows in any order), no clock time or run id in them
    ranked.select(COHORT_COLUMNS).write_parquet(staging / "cohort.parquet")
    evidence.sort(evidence.columns, nulls_last=True).write_parquet(staging / "evidence.parquet")
    summary.write_csv(staging / "summary.csv")
    disclosure.write_equations(staging / DISCLOSURE_FILE,  # the relations the gate attacks
                               disclosure.equations(summary, nests))

    call_lists: dict[str, pl.DataFrame] = {}
    if project.direct_care and ranked.height:
        wanted = ranked.filter(pl.col("practice_code").is_in(sorted(approved)))
        if wanted.height:
            lists = contacts.reidentify(zones, wanted)
            (staging / "direct_care").mkdir()
            for (practice,), rows in lists.group_by(["practice_code"], maintain_order=True):
                call_lists[practice] = rows.drop("practice_code")
                call_lists[practice].write_csv(staging / "direct_care" / f"{practice}.csv")

    uptake = uptake_of.suppress(uptake, project.suppress_below) if uptake.height else uptake
    if uptake.height:
        uptake.write_csv(staging / UPTAKE)

    trend = earlier_summaries(zones, project.id, run_date)
    report.write_report(staging / "report.html", project, run_date, summary, trend,
                        call_list_practices=sorted(call_lists), rules=rule_status,
                        uptake=uptake, previous_run=previous_run)

    gates = run_gates(zones, project, staging, ranked, population.height, call_lists)
    # warnings never block (passed=True) but are shown with every gate: an assumed campaign
    gates += [GateResult("rules_warning", True, f"WARNING: {w}") for w in rule_status["warnings"]]
    if gate_hook is not None:
        gates = gate_hook(gates)
    failed = [g for g in gates if not g.passed]
    core20 = int(ranked["is_core20"].sum()) if ranked.height else 0
    release = Release(project.id, run_date, root / run_date, ranked.height, population.height, core20,
                      sorted(call_lists), sum(r.height for r in call_lists.values()), gates)
    manifest = {
        "project": project.id, "title": project.title, "run_date": run_date, "reference_date": run_date,
        "cohort_rows": ranked.height, "population": population.height, "core20_rows": core20,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **_who(run_id, who),
        "gates": [asdict(g) for g in gates],
        "rules_off": rule_status["rules_off"], "campaign": rule_status["campaign"],
        "warnings": rule_status["warnings"], "rule_coverage": rule_status["coverage"],
        "files": {str(p.relative_to(staging)): sha256_file(p) for p in sorted(staging.rglob("*")) if p.is_file()},
    }
    write_json_atomic(staging / "release.json", manifest)
    inputs.write_inputs(staging, used)  # metadata beside release.json, not a published file
    base = {"when": manifest["created_at"], **_who(run_id, who), "project": project.id, "run_date": run_date}

    if failed:
        quarantine = root / ".failed" / f"{run_date}-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S%f')}"
        quarantine.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, quarantine)
        append_audit(zones, {**base, "what": "pseudonymised_release", "status": "blocked",
                             "rows": ranked.height, "path": str(quarantine),
                             "failed_gates": [g.gate for g in failed]})
        raise ReleaseBlocked(project.id, run_date, failed, quarantine, gates)

    final = root / run_date
    superseded = None
    if final.exists():  # re-publishing a date (backfill): swap, then drop the old one
        superseded = root / f".superseded-{run_date}-{uuid.uuid4().hex[:8]}"
        os.replace(final, superseded)
    os.replace(staging, final)
    if superseded is not None:
        shutil.rmtree(superseded, ignore_errors=True)
    write_json_atomic(root / LATEST, {"project": project.id, "run_date": run_date, "path": str(final),
                                       "published_at": manifest["created_at"], "rows": ranked.height})
    append_audit(zones, {**base, "what": "pseudonymised_release", "status": "published",
                         "rows": ranked.height, "path": str(final),
                         "practices": sorted(ranked["practice_code"].unique().to_list())})
    if call_lists:
        append_audit(zones, {**base, "what": "direct_care_call_lists", "status": "published",
                             "rows": release.call_list_rows, "path": str(final / "direct_care"),
                             "practices": sorted(call_lists),
                             "rows_by_practice": {p: r.height for p, r in call_lists.items()},
                             "reidentified_from": "identity zone (pseudo_keys, contact_details)",
                             **approval(project, base)})
    return release
