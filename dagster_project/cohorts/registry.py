"""The Protect NoW project registry (projects.yaml): data, loaded and validated here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REGISTRY_FILE = Path(__file__).with_name("projects.yaml")
DBT_SEEDS = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "projects"
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
STRATIFY_COLUMNS = {"risk_tier", "imd_quintile", "core20", "age_band", "ethnicity_group",
                    "segment", "eligibility_group"}
PRIORITY_COLUMNS = {"clinical_priority", "is_core20", "imd_quintile", "risk_probability", "age"}
CHANNELS = {"phone", "sms", "letter"}


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool


@dataclass(frozen=True)
class Project:
    id: str
    title: str
    description: str
    model: str
    evidence_model: str
    eligibility: dict
    stratify_by: tuple[str, ...]
    priority: tuple[SortKey, ...]
    channels: tuple[str, ...]
    suite: str
    max_cohort_share: float
    suppress_below: int
    direct_care: bool
    extra: dict = field(default_factory=dict)


class RegistryError(ValueError):
    pass


def load_projects(path: Path = REGISTRY_FILE) -> dict[str, Project]:
    """Every project of the registry, by id, validated (errors name the project and field)."""
    doc = yaml.safe_load(path.read_text())
    defaults = doc.get("defaults", {})
    projects: dict[str, Project] = {}
    for entry in doc.get("projects", []):
        pid = entry.get("id", "?")
        where = f"{path.name}: project {pid!r}"
        for required in ("id", "title", "model", "evidence_model"):
            if not entry.get(required):
                raise RegistryError(f"{where}: field {required!r} is required")
        for name in ("id", "model", "evidence_model"):
            if not IDENTIFIER.match(entry[name]):
                raise RegistryError(f"{where}: {name} {entry[name]!r} must be lower_snake_case")
        if pid in projects:
            raise RegistryError(f"{where}: duplicated id")
        release = {**defaults.get("release", {}), **entry.get("release", {})}
        stratify = tuple(entry.get("stratify_by", defaults.get("stratify_by", [])))
        bad = set(stratify) - STRATIFY_COLUMNS
        if bad or not stratify:
            raise RegistryError(f"{where}: stratify_by {sorted(bad) or '[]'} not in {sorted(STRATIFY_COLUMNS)}")
        keys = tuple(SortKey(k["column"], bool(k.get("descending", False)))
                     for k in entry.get("priority", defaults.get("priority", [])))
        bad = {k.column for k in keys} - PRIORITY_COLUMNS
        if bad:
            raise RegistryError(f"{where}: priority columns {sorted(bad)} not in {sorted(PRIORITY_COLUMNS)}")
        channels = tuple(entry.get("channels", defaults.get("channels", [])))
        if set(channels) - CHANNELS:
            raise RegistryError(f"{where}: channels {channels} must be among {sorted(CHANNELS)}")
        projects[pid] = Project(
            id=pid, title=entry["title"], description=entry.get("description", ""),
            model=entry["model"], evidence_model=entry["evidence_model"],
            eligibility=dict(entry.get("eligibility", {})), stratify_by=stratify, priority=keys,
            channels=channels, suite=release.get("suite", "cohort_release"),
            max_cohort_share=float(release.get("max_cohort_share", 0.6)),
            suppress_below=int(release.get("suppress_below", 8)),
            direct_care=bool(release.get("direct_care", True)),
            extra={"approval": dict(release.get("approval") or {})},
        )
    return projects

