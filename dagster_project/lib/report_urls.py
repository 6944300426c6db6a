"""Which files of the data directory the report server may serve, and their URLs.

The allow-list (never a deny-list) and the links in asset metadata live here, below every
area, so that assets link their reports without importing the server (`ops.report_server`,
which serves exactly what `servable` admits). Landing, raw, quarantine, identity, the
warehouse database and direct-care files are never served.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

from dagster_project.lib.zones import Zones

HOST = "127.0.0.1"
PORT_ENV = "PHM_REPORTS_PORT"
URL_ENV = "PHM_REPORTS_URL"  # the address the UI links to, if not http://127.0.0.1:<port>
DEFAULT_PORT = 3001

# (pattern over the path relative to the data directory) - the whole allow-list
ALLOWED = [
    re.compile(r"reports/validation/[^/]+/[^/]+/[^/]+/[^/]+\.(html|json)"),
    re.compile(r"reports/linkage/(?!waterfall)[^/]+\.html"),
    re.compile(r"published/[a-z0-9_]+/\d{4}-\d{2}-\d{2}/(report\.html|release\.json)"),
    re.compile(r"reports/projection/\d{4}-\d{2}-\d{2}/index\.html"),
    re.compile(r"warehouse/docs/(index\.html|manifest\.json|catalog\.json|run_results\.json)"),
]
NEVER = re.compile(r"(^|/)(landing|raw|quarantine|identity|direct_care|\.failed|\.staging[^/]*)(/|$)")


def port() -> int:
    return int(os.environ.get(PORT_ENV, DEFAULT_PORT))


def base_url() -> str:
    return os.environ.get(URL_ENV, f"http://{HOST}:{port()}").rstrip("/")


def servable(zones: Zones, relative: str) -> Path | None:
    """The file to serve for a request path, or None (404) unless the allow-list admits it."""
    relative = relative.lstrip("/")
    if not relative or NEVER.search(relative) or not any(p.fullmatch(relative) for p in ALLOWED):
        return None
    root = zones.data_dir.resolve()
    path = (root / relative).resolve()
    if path.is_relative_to(root / "identity") or not path.is_relative_to(root) or not path.is_file():
        return None
    if path.relative_to(root).as_posix() != relative:  # a symlink or `..` changed where it points
        return None
    return path


def url_for(zones: Zones, path: Path) -> str | None:
    """The served URL of a file under the data directory, or None if it is never served."""
    try:
        relative = Path(path).resolve().relative_to(zones.data_dir.resolve()).as_posix()
    except ValueError:
        return None
    return f"{base_url()}/{quote(relative)}" if servable(zones, relative) else None


def link(zones: Zones, path: Path):
    """Metadata for a report: a clickable URL when it is served, else its path."""
    import dagster as dg

    url = url_for(zones, path)
    return dg.MetadataValue.url(url) if url else dg.MetadataValue.path(str(path))
