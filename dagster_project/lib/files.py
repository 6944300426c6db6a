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


# --------------------------------------------------------------------------- versioned files
# The raw zone's idiom for any zone whose outputs a later build must re-read exactly (the
# identity zone's pseudo keys, opt-outs and contact details): every version is an immutable,
# content-addressed file under versions/<name>/<sha256><suffix>, and the file readers open is
# a relative symbolic link to the newest one, swapped with one os.replace. Same bytes, same
# version; nothing is ever removed or rewritten.

VERSIONS = "versions"


def version_store(path: Path) -> Path:
    """The folder holding every version of `path` (identity/versions/pseudo_keys/)."""
    return path.parent / VERSIONS / path.stem


def point_at(link: Path, target: Path) -> None:
    """Make `link` a relative symbolic link to `target`, atomically (readers see old or new)."""
    pointer = link.with_name(f".{link.name}.{uuid.uuid4().hex}.link")
    os.symlink(os.path.relpath(target, link.parent), pointer)
    os.replace(pointer, link)


def _store(tmp: Path, path: Path) -> Path:
    """Move a finished file into the version store under its hash (or drop it: held already)."""
    digest = sha256_file(tmp)
    target = version_store(path) / f"{digest}{path.suffix}"
    if target.exists():
        tmp.unlink()
    else:
        os.chmod(tmp, 0o444)  # a writer that follows the link cannot rewrite a past version
        os.replace(tmp, target)
    return target


def adopt_version(path: Path) -> Path | None:
    """The version file `path` stands for; a plain file (written before versioning, or by a
    writer that does not version) becomes a version first. None when `path` does not exist."""
    path = Path(path)
    if path.is_symlink():
        return path.resolve()
    if not path.is_file():
        return None
    version_store(path).mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(version_store(path) / path.name)
    os.replace(path, tmp)  # the plain file leaves the readers' path only for this instant
    target = _store(tmp, path)
    point_at(path, target)
    return target


def write_versioned(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)`, keep the result as a new content-addressed version of `path` and
    point `path` at it (one os.replace). Returns the version file."""
    path = Path(path)
    adopt_version(path)  # an existing plain file is kept as a version, not overwritten
    version_store(path).mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(version_store(path) / path.name)
    try:
        write(tmp)
        fsync_file(tmp)
        target = _store(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    point_at(path, target)
    return target


def write_parquet_versioned(frame, path: Path) -> Path:
    """A polars frame as zstd parquet, as a new version of `path` (identity zone outputs)."""
    return write_versioned(path, lambda tmp: frame.write_parquet(tmp, compression="zstd"))
