"""File helpers every zone uses: durable atomic writes and streamed checksums.

A reader sees the old file or the new one, never half of one: each write goes to a
temporary file beside the target (same filesystem), is fsynced, then renamed over it
(`os.replace`, atomic on POSIX).

    from dagster_project.lib.files import write_json_atomic, write_parquet_atomic, sha256_file
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

CHUNK = 1 << 22  # 4 MiB: a 1 GB extract is hashed without loading it into memory


def temp_beside(path: Path, suffix: str = ".tmp") -> Path:
    """A fresh hidden temporary name in the target's folder (so the rename is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}{suffix}")


def fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)`, fsync the result, and rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(path)
    try:
        write(tmp)
        fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json_atomic(path: Path, doc: object) -> Path:
    return write_text_atomic(path, json.dumps(doc, indent=2, default=str))


def write_parquet_atomic(frame, path: Path) -> Path:
    """A polars frame as zstd parquet, atomically (the identity and cohort zones)."""
    return write_atomic(path, lambda tmp: frame.write_parquet(tmp, compression="zstd"))


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()
