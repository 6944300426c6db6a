"""The source registry: `registry.yaml` read into typed specs.

The YAML is the single description of every table in the landing contract. Code asks
the registry rather than naming tables, so adding a source is an edit to the YAML and a
Great Expectations suite, not a code change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

REGISTRY_PATH = Path(__file__).with_name("registry.yaml")
COLUMN_TYPES = ("string", "date", "integer", "float")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool = True


@dataclass(frozen=True)
class VolumeRule:
    warn_change: float
    block_below: float


@dataclass(frozen=True)
class TableSpec:
    source: str
    table: str
    kind: str  # snapshot | increment
    record_key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    suite: str
    volume: VolumeRule
    rate_block_min_rows: int = 0
    person_level: bool = False
    identity: dict[str, str] = field(default_factory=dict)
    direct_identifiers: tuple[str, ...] = ()
    event_date: str | None = None

    @property
    def name(self) -> str:
        """`<source>__<table>`, the form used for asset keys, suites and file names."""
        return f"{self.source}__{self.table}"

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def known_columns(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


def _column(name: str, raw: str | dict) -> ColumnSpec:
    if isinstance(raw, str):
        raw = {"type": raw}
    col = ColumnSpec(name=name, type=raw["type"], required=raw.get("required", True))
    if col.type not in COLUMN_TYPES:
        raise ValueError(f"registry column {name}: type {col.type!r} is not one of {COLUMN_TYPES}")
    return col


def parse_registry(doc: dict) -> dict[str, TableSpec]:
    """Turn the registry document into specs keyed by `<source>__<table>`."""
    defaults = doc.get("defaults", {})
    specs: dict[str, TableSpec] = {}
    for source, tables in doc["sources"].items():
        for table, raw in tables.items():
            if raw["kind"] not in ("snapshot", "increment"):
                raise ValueError(f"registry {source}.{table}: kind must be snapshot or increment")
            base = defaults.get("increment_volume") if raw["kind"] == "increment" else None
            volume = {**(base or defaults.get("volume", {})), **raw.get("volume", {})}
            spec = TableSpec(
                source=source,
                table=table,
                kind=raw["kind"],
                record_key=tuple(raw["record_key"]),
                columns=tuple(_column(n, c) for n, c in raw["columns"].items()),
                suite=raw["suite"],
                volume=VolumeRule(**volume),
                rate_block_min_rows=raw.get("rate_block_min_rows", defaults.get("rate_block_min_rows", 0)),
                person_level=raw.get("person_level", False),
                identity=dict(raw.get("identity", {})),
                direct_identifiers=tuple(raw.get("direct_identifiers", ())),
                event_date=raw.get("event_date"),
            )
            unknown_key = set(spec.record_key) - set(spec.known_columns)
            if unknown_key:
                raise ValueError(f"registry {spec.name}: record_key names unknown {unknown_key}")
            specs[spec.name] = spec
    return specs


@lru_cache(maxsize=1)
def load_registry(path: Path = REGISTRY_PATH) -> dict[str, TableSpec]:
    """All table specs, keyed by `<source>__<table>`, in registry order."""
    return parse_registry(yaml.safe_load(path.read_text()))


@lru_cache(maxsize=1)
def _document(path: Path = REGISTRY_PATH) -> dict:
    return yaml.safe_load(path.read_text())


def landing_policy() -> dict:
    """The `landing:` section of the registry (future-date tolerance and similar rules)."""
    return dict(_document().get("landing") or {})


def tables_of(source: str) -> list[str]:
    return [s.table for s in load_registry().values() if s.source == source]


def sources() -> list[str]:
    """Distinct source names in registry order."""
    return list(dict.fromkeys(s.source for s in load_registry().values()))
