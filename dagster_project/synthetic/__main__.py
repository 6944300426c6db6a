"""CLI: python -m dagster_project.synthetic --persons N --seed S ... --out DIR."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from dagster_project.synthetic.config import GeneratorConfig
from dagster_project.synthetic.generator import generate, stages


def parse_args(argv: list[str] | None = None) -> tuple[GeneratorConfig, bool]:
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
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    a = p.parse_args(argv)
    if a.persons < 1 or a.extracts < 1 or a.messiness < 0:
        p.error("--persons and --extracts must be >= 1 and --messiness >= 0")
    return GeneratorConfig(persons=a.persons, seed=a.seed, extracts=a.extracts,
                           end_date=a.end_date, messiness=a.messiness, out=a.out), a.quiet


@contextmanager
def progress_bar(names: list[str], quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """A stage-by-stage progress indicator on stderr: a bar on a terminal, one line per stage
    (with the seconds the previous one took) in a log, nothing with --quiet."""
    if quiet:
        yield lambda name: None
        return
    if sys.stderr.isatty():
        with tqdm(total=len(names), unit="stage", file=sys.stderr, dynamic_ncols=True,
                  bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} stages [{elapsed}]") as bar:
            def advance(name: str) -> None:
                if bar.desc:
                    bar.update(1)
                bar.set_description(name)
            yield advance
            bar.update(bar.total - bar.n)
        return
    clock = {"start": time.perf_counter(), "n": 0}

    def line(name: str) -> None:
        clock["n"] += 1
        print(f"[{clock['n']}/{len(names)}] {name} (at {time.perf_counter() - clock['start']:.1f} s)",
              file=sys.stderr, flush=True)
    yield line


def main(argv: list[str] | None = None) -> None:
    config, quiet = parse_args(argv)
    with progress_bar(stages(config), quiet) as progress:
        summary = generate(config, progress)
    print(f"synthetic ICS: {summary.persons:,} people, extracts "
          f"{', '.join(d.isoformat() for d in summary.extract_dates)} -> {summary.out}")
    print(summary.table())
    if summary.untraced:
        print(f"untraced people (no NHS number): {summary.untraced:,}")
    print(f"done in {summary.seconds:.1f} s")


if __name__ == "__main__":
    main()
