"""Serve the pseudonymised reports and the dbt docs over HTTP on loopback (for `make ui`).

    python -m dagster_project.ops.report_server            # http://127.0.0.1:3001/
    PHM_REPORTS_PORT=3101 python -m dagster_project.ops.report_server

A `file://` link in asset metadata opens nothing from the browser, and dbt docs opened
from disk are blank (the browser blocks their manifest.json), so the UI links here. What
may be served is an allow-list of the data directory (`lib/report_urls.py`, which also makes
the links in asset metadata), never a deny-list:

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
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from dagster_project.lib.report_urls import HOST, port, servable
from dagster_project.lib.zones import Zones


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
