"""CLI: python -m dagster_project.synthetic --persons N --seed S ... --out DIR."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from dagster_project.synthetic.config import GeneratorConfig
from dagster_project.synthetic.generator import generate


def parse_args(argv: list[str] | None = None) -> GeneratorConfig:
    d = GeneratorConfig()
    p = argparse.ArgumentParser(prog="python -m dagster_project.synthetic",
                                description="Generate a synthetic Norfolk and Waveney ICS.")
    p.add_argument("--persons", type=int, default=d.persons)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--extracts", type=int, default=d.extracts)
    p.add_argument("--end-date", type=dt.date.fromisoformat, default=d.end_date)
    p.add_argument("--messiness", type=float, default=d.messiness,
                   help="0 = clean identities, 1 = realistic, 2 = harsh")
    p.add_argument("--out", type=Path, default=d.out)
    a = p.parse_args(argv)
    if a.persons < 1 or a.extracts < 1 or a.messiness < 0:
        p.error("--persons and --extracts must be >= 1 and --messiness >= 0")
    return GeneratorConfig(persons=a.persons, seed=a.seed, extracts=a.extracts,
                           end_date=a.end_date, messiness=a.messiness, out=a.out)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    summary = generate(config)
    print(f"synthetic ICS: {summary.persons:,} people, extracts "
          f"{', '.join(d.isoformat() for d in summary.extract_dates)} -> {summary.out}")
    print(summary.table())
    if summary.untraced:
        print(f"untraced people (no NHS number): {summary.untraced:,}")
    print(f"done in {summary.seconds:.1f} s")


if __name__ == "__main__":
    main()
