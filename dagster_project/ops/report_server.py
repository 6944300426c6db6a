"""Serve the pseudonymised reports and the dbt docs over HTTP on loopback (for `make ui`).

    python -m dagster_project.ops.report_server            # http://127.0.0.1:3001/
    PHM_REPORTS_PORT=3101 python -m dagster_project.ops.report_server

A `file://` link in asset metadata opens nothing from the browser, and dbt docs opened
from disk are blank (the browser blocks their manifest.json), so the UI links here. What
may be served is an allow-list of the data directory, never a deny-list:

- `reports/validation/...`   Great Expectations reports (sample values masked);
- `reports/linkage/...`      Splink model charts (match weights, m/u parameters) but never
                             the waterfall sample, which shows compared records' fields;
- `published/<project>/<run_date>/report.html` and `release.json`: the release report and
  manifest (suppressed aggregates; never cohort rows, never `direct_care/` call lists);
- `reports/projection/<reference_date>/index.html`: the population projection (aggregates);
- `warehouse/docs/...`       the dbt docs site (index.html, manifest.json, catalog.json).

Landing, raw, quarantine, identity, the warehouse database and direct-care files are never
served: any other path answers 404, as does anything that resolves (symlinks, `..`)
outside the allowed folders. The server binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import re
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

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


class _Handler(SimpleHTTPRequestHandler):
    zones: Zones

    def send_head(self):
        path = servable(self.zones, unquote(urlsplit(self.path).path))
        if path is None:
            self.send_error(404, "not served: only pseudonymised reports and the dbt docs are")
            return None
        self.path = "/" + path.relative_to(self.zones.data_dir.resolve()).as_posix()
        return super().send_head()

    def list_directory(self, path):  # never list folders
        self.send_error(404)
        return None

    def log_message(self, format, *args):  # quiet: the UI is the place to look
        pass


def make_server(zones: Zones, listen_port: int | None = None) -> ThreadingHTTPServer:
    handler = type("Handler", (_Handler,), {"zones": zones})
    return ThreadingHTTPServer((HOST, port() if listen_port is None else listen_port),
                               partial(handler, directory=str(zones.data_dir.resolve())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=port())
    args = parser.parse_args(argv)
    zones = Zones.from_env()
    server = make_server(zones, args.port)
    print(f"reports and dbt docs: http://{HOST}:{server.server_address[1]}/ (from {zones.data_dir})")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
