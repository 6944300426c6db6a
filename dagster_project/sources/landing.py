"""Reading the landing zone: finding extracts and turning one delivered file into a typed frame.

Landing is read-only: nothing here writes, moves or deletes a delivered file. Every
problem becomes an `ExtractError` naming the file, the rule, the column or line.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dagster_project.lib.errors import ExtractError
from dagster_project.lib.nhs_number import normalise_expr
from dagster_project.sources.registry import TableSpec, landing_policy

DATE_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SUFFIXES = (".csv", ".csv.gz", ".parquet")
BOM = b"\xef\xbb\xbf"
MAX_EXAMPLES = 5
FUTURE_TOLERANCE_ENV = "PHM_FUTURE_TOLERANCE_DAYS"


@dataclass
class ExtractFolders:
    """Extract folders of one source: loadable dates, and folders refused with the reason.

    `future`: dated later than today plus the tolerance (a typo such as 2099-01-01 would
    otherwise become the newest snapshot for good); `unsafe`: symbolic links, which could
    point anywhere on the server and are never followed.
    """

    dates: list[str] = field(default_factory=list)
    invalid: list[Path] = field(default_factory=list)
    future: list[Path] = field(default_factory=list)
    unsafe: list[Path] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per refused folder (no file is read to say so)."""
        return (
            [f"{p}: folder name is not an ISO date (YYYY-MM-DD); not loaded" for p in self.invalid]
            + [f"{p}: extract date is in the future (more than {future_tolerance_days()} day(s) "
               "after today); refused, not loaded" for p in self.future]
            + [f"{p}: is a symbolic link; landing folders must be real folders; refused, not read"
               for p in self.unsafe]
        )


def is_extract_date(name: str) -> bool:
    """True for an ISO `YYYY-MM-DD` folder name that is a real calendar date."""
    if not DATE_FOLDER.match(name):
        return False
    try:
        dt.date.fromisoformat(name)
    except ValueError:
        return False
    return True


def future_tolerance_days() -> int:
    """How many days after today an extract date may be (clock skew, a cut dated tomorrow).

    Configuration: `landing.future_tolerance_days` in sources/registry.yaml, overridden by
    the environment variable PHM_FUTURE_TOLERANCE_DAYS.
    """
    configured = os.environ.get(FUTURE_TOLERANCE_ENV)
    if configured:
        return int(configured)
    return int(landing_policy().get("future_tolerance_days", 3))


def latest_allowed_date(today: dt.date | None = None) -> dt.date:
    today = today or dt.datetime.now(dt.UTC).date()
    return today + dt.timedelta(days=future_tolerance_days())


def is_future(extract_date: str, today: dt.date | None = None) -> bool:
    return dt.date.fromisoformat(extract_date) > latest_allowed_date(today)


def discover_extracts(landing_dir: Path, source: str, today: dt.date | None = None) -> ExtractFolders:
    """The extract folders delivered for a source, oldest first; refused folders apart."""
    found = ExtractFolders()
    root = landing_dir / source
    if root.is_symlink():
        found.unsafe.append(root)
        return found
    if not root.is_dir():
        return found
    for child in sorted(root.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_symlink():  # checked before is_dir(), which would follow the link
            found.unsafe.append(child)
            continue
        if not child.is_dir():
            continue
        if not is_extract_date(child.name):
            found.invalid.append(child)
        elif is_future(child.name, today):
            found.future.append(child)
        else:
            found.dates.append(child.name)
    return found


def check_extract_date(folder: Path) -> None:
    if not is_extract_date(folder.name):
        raise ExtractError(
            folder,
            "extract folder is a date",
            f"folder name {folder.name!r} is not an ISO date (YYYY-MM-DD)",
            hint="rename the folder to the date the supplier cut the extract.",
        )
    if is_future(folder.name):
        raise ExtractError(
            folder,
            "extract date not in the future",
            f"the folder is dated {folder.name}, later than today plus "
            f"{future_tolerance_days()} day(s) of tolerance",
            hint="rename the folder to the date the supplier cut the extract "
            f"(tolerance: {FUTURE_TOLERANCE_ENV} or landing.future_tolerance_days).",
        )


def check_inside_landing(path: Path) -> None:
    """Refuse a symbolic link anywhere from the source folder down, or a path leaving its folder.

    Nothing is read or copied from a refused path: a link could expose any file the
    platform's account can read (another ICS's extract, /etc/shadow) to raw or quarantine.
    """
    extract_dir = path if path.is_dir() and not path.is_symlink() else path.parent
    for part in (extract_dir.parent, extract_dir, path):
        if part.is_symlink():
            raise ExtractError(
                part, "no symbolic links in landing",
                "is a symbolic link; it was not followed, read or copied",
                hint="deliver real files and folders into landing, not links.",
            )
    if path != extract_dir and path.resolve().parent != extract_dir.resolve():
        raise ExtractError(
            path, "no symbolic links in landing", "resolves outside its extract folder; not read",
            hint="deliver real files and folders into landing, not links.",
        )


def unknown_table_files(extract_dir: Path, tables: list[str]) -> list[str]:
    """Names of files in an extract folder that are no table of its source (never silent)."""
    if extract_dir.is_symlink() or not extract_dir.is_dir():
        return []
    expected = {f"{t}{s}" for t in tables for s in SUFFIXES}
    return sorted(p.name for p in extract_dir.iterdir()
                  if not p.name.startswith(".") and p.name not in expected)


def find_table_file(extract_dir: Path, table: str) -> Path:
    """The one file holding `table` in an extract folder (.csv, .csv.gz or .parquet)."""
    check_extract_date(extract_dir)
    check_inside_landing(extract_dir)
    candidates = [extract_dir / f"{table}{s}" for s in SUFFIXES]
    present = [p for p in candidates if p.exists() or p.is_symlink()]
    for p in present:
        check_inside_landing(p)
    if not present:
        raise ExtractError(
            extract_dir,
            "table file present",
            f"no {table}.csv, {table}.csv.gz or {table}.parquet in this extract",
            hint="ask the supplier to resend the extract with this table.",
        )
    if len(present) > 1:
        raise ExtractError(
            extract_dir,
            "one file per table",
            f"{len(present)} files for table {table}: {[p.name for p in present]}",
            hint="keep exactly one format of the table in the extract folder.",
        )
    return present[0]


@dataclass
class LoadedExtract:
    """A delivered file read and typed, with what the reader noticed along the way."""

    frame: pl.DataFrame
    file: Path
    extra_columns: list[str]
    warnings: list[str]


def read_extract(path: Path, spec: TableSpec) -> LoadedExtract:
    """Read one delivered file and type it by the registry; raise `ExtractError` if it can't be.

    No message carries a value from the file: rows are named by line number and column.
    """
    check_inside_landing(path)
    if not path.exists():
        raise ExtractError(path, "file present", "the file does not exist")
    if path.stat().st_size == 0:
        raise ExtractError(path, "file not empty", "the file has 0 bytes", hint="ask for a resend.")
    warnings: list[str] = []
    if path.suffix == ".parquet":
        raw = _read_parquet(path, spec)
    else:
        raw = _read_csv(path, spec, warnings)
    missing = [c for c in spec.required_columns if c not in raw.columns]
    if missing:
        raise ExtractError(
            path,
            "required columns present",
            # the unrecognised names are not quoted: a file without a header row would put
            # its first patient's details there
            f"missing required column(s) {missing}; the header has {len(raw.columns)} column(s), "
            f"{sum(c not in spec.known_columns for c in raw.columns)} of them not in the contract",
            column=missing[0],
            hint="the extract does not meet the landing contract; ask the supplier to resend it.",
        )
    extra = [c for c in raw.columns if c not in spec.known_columns]
    if extra:
        warnings.append(f"unknown extra column(s) kept as text: {extra}")
    raw = _normalise_nhs_numbers(raw, spec, warnings)
    typed = _type_columns(raw, spec, path)
    return LoadedExtract(typed, path, extra, warnings)


def _read_parquet(path: Path, spec: TableSpec) -> pl.DataFrame:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ExtractError(path, "readable parquet", f"cannot read the file: {exc}") from exc
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        dtype = frame.schema[col.name]
        ok = {
            "string": dtype in (pl.Utf8, pl.Categorical) or dtype == pl.Null,
            "date": dtype in (pl.Date, pl.Utf8, pl.Null) or isinstance(dtype, pl.Datetime),
            "integer": dtype.is_integer() or dtype in (pl.Utf8, pl.Null),
            "float": dtype.is_numeric() or dtype in (pl.Utf8, pl.Null),
        }[col.type]
        if not ok:
            raise ExtractError(
                path,
                "column types match the contract",
                f"column {col.name!r} is stored as {dtype}, the contract says {col.type}",
                column=col.name,
                hint="ask the supplier to write the column with the contract's type.",
            )
    # Everything else is typed in one place, whatever the file format; as in CSV, an
    # empty string is a missing value.
    text = [c for c in frame.columns if frame.schema[c] in (pl.Utf8, pl.Categorical)]
    return frame.with_columns(
        pl.col(c).cast(pl.Utf8).str.strip_chars().replace("", None) for c in text
    )


def _read_header(path: Path) -> tuple[bytes, bool]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.readline(1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise ExtractError(
            path, "readable gzip", f"cannot decompress the file: {exc}", hint="ask for a resend."
        ) from exc
    has_bom = head.startswith(BOM)
    return (head[3:] if has_bom else head), has_bom


def _read_csv(path: Path, spec: TableSpec, warnings: list[str]) -> pl.DataFrame:
    header_bytes, has_bom = _read_header(path)
    if has_bom:
        warnings.append("byte-order mark at the start of the file ignored")
    try:
        header_text = header_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExtractError(
            path, "UTF-8 encoding", f"the header is not UTF-8 ({exc})", lines=[1],
            hint="ask the supplier to send UTF-8 (not Windows-1252/Latin-1).",
        ) from exc
    header = next(csv.reader([header_text.strip("\r\n")]), [])
    if not header or header == [""]:
        raise ExtractError(path, "header row present", "the first line is empty", lines=[1])
    if len(header) == 1 and spec.required_columns and header[0] not in spec.required_columns:
        sep = next((s for s in (";", "\t", "|") if s in header[0]), None)
        if sep:
            raise ExtractError(
                path, "comma-separated", "the header has one column; "
                f"the file looks {'tab' if sep == chr(9) else repr(sep)}-separated",
                lines=[1], hint="ask the supplier for a comma-separated file.",
            )
    seen: set[str] = set()
    duplicated = [c for c in header if c in seen or seen.add(c)]
    if duplicated:
        raise ExtractError(
            path, "column names unique", f"the header names {sorted(set(duplicated))} more than once",
            column=duplicated[0], lines=[1], hint="ask the supplier to resend with one column of each name.",
        )
    bad_rows: list[tuple[int | None, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append((row.number, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=True, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, OSError, EOFError, zlib.error) as exc:
        text = str(exc)
        if "UTF8" in text or "utf8" in text.lower():
            line = _first_non_utf8_line(path)
            raise ExtractError(
                path, "UTF-8 encoding", "the file holds bytes that are not UTF-8",
                lines=[line] if line else None,
                hint="ask the supplier to send UTF-8 (not Windows-1252/Latin-1).",
            ) from exc
        if path.name.endswith(".gz"):
            raise ExtractError(
                path, "readable gzip", f"cannot decompress the file: {text}", hint="ask for a resend."
            ) from exc
        # pyarrow quotes the offending text after the first colon: keep only what it says went wrong
        raise ExtractError(path, "well-formed CSV", text.splitlines()[0].split(":")[0]) from exc
    if bad_rows:
        lines = _line_numbers(path, bad_rows)
        raise ExtractError(
            path,
            "every row has the header's columns",
            # the row's text is never quoted: it holds names, NHS numbers and dates of birth
            f"{len(bad_rows)} row(s) do not have the header's {len(header)} fields"
            + (" (the last line looks truncated)" if _is_last_line(path, bad_rows[-1][1]) else ""),
            lines=lines,
            hint="the file is malformed or truncated; ask the supplier to resend it.",
        )
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _open_text_bytes(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")  # type: ignore[return-value]


def _first_non_utf8_line(path: Path) -> int | None:
    """1-based line number of the first line that is not valid UTF-8 (only run on failure)."""
    with _open_text_bytes(path) as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def _line_numbers(path: Path, bad_rows: list[tuple[int | None, str]]) -> list[int]:
    """Line numbers of malformed rows; pyarrow may not know them when reading in threads."""
    known = [n for n, _ in bad_rows if n is not None and n > 0]
    if len(known) == len(bad_rows):
        return known
    wanted = {text for _, text in bad_rows}
    found: list[int] = []
    with _open_text_bytes(path) as fh:
        for number, line in enumerate(fh, start=1):
            if line.rstrip(b"\r\n").decode("utf-8", "replace") in wanted:
                found.append(number)
    return found


def _is_last_line(path: Path, text: str) -> bool:
    with _open_text_bytes(path) as fh:
        last = b""
        for line in fh:
            last = line
    return last.rstrip(b"\r\n").decode("utf-8", "replace") == text


def _type_columns(frame: pl.DataFrame, spec: TableSpec, path: Path) -> pl.DataFrame:
    """Cast known columns to their registry types; name the first rows that do not parse."""
    exprs = []
    for col in spec.columns:
        if col.name not in frame.columns:
            exprs.append(pl.lit(None, dtype=_POLARS[col.type]).alias(col.name))
            continue
        exprs.append(_cast(pl.col(col.name), frame.schema[col.name], col.type).alias(col.name))
    typed = frame.with_columns(exprs)
    for col in spec.columns:
        if col.type == "string" or col.name not in frame.columns:
            continue
        failed = typed.select(
            (pl.col(col.name).is_null() & frame[col.name].is_not_null()).arg_true().head(MAX_EXAMPLES)
        ).to_series()
        if failed.len():
            count = int((typed[col.name].is_null() & frame[col.name].is_not_null()).sum())
            raise ExtractError(  # line numbers only: a date of birth is an identifier
                path,
                f"{col.type} values parse",
                f"{count} value(s) are not {_DESCRIBE[col.type]}",
                column=col.name,
                lines=[i + 2 for i in failed.to_list()],  # header is line 1
                hint="correct the values at source and resend the extract.",
            )
    return typed.select(spec.known_columns + [c for c in frame.columns if c not in spec.known_columns])


def _normalise_nhs_numbers(frame: pl.DataFrame, spec: TableSpec, warnings: list[str]) -> pl.DataFrame:
    """`999 123 4567`, `999-123-4567` and a spreadsheet's leading apostrophe become 10 digits.

    Anything still not 10 digits is left as delivered, so the modulus-11 rule names it.
    """
    column = spec.identity.get("nhs_number", "nhs_number")
    if column not in frame.columns or frame.schema[column] != pl.Utf8:
        return frame
    cleaned = frame.select(normalise_expr(column)).to_series()
    changed = int((cleaned != frame[column]).fill_null(False).sum())
    if not changed:
        return frame
    warnings.append(
        f"{changed} NHS number(s) in column {column!r} written with spaces, hyphens or a leading "
        "apostrophe were normalised to 10 digits")
    return frame.with_columns(cleaned.alias(column))


_POLARS = {"string": pl.Utf8, "date": pl.Date, "integer": pl.Int64, "float": pl.Float64}
_DESCRIBE = {
    "date": "ISO dates (YYYY-MM-DD)",
    "integer": "whole numbers",
    "float": "numbers",
}


def _cast(expr: pl.Expr, dtype: pl.DataType, target: str) -> pl.Expr:
    if target == "string":
        return expr.cast(pl.Utf8)
    if target == "date":
        if dtype == pl.Date:
            return expr
        if isinstance(dtype, pl.Datetime):
            return expr.dt.date()
        return expr.cast(pl.Utf8).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    return expr.cast(pl.Utf8).str.strip_chars().cast(_POLARS[target], strict=False)
