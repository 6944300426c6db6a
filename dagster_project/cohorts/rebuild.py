"""Rebuild a past release from what it recorded, and compare it file by file with the original.

    python -m dagster_project.cohorts.rebuild --run-date 2026-10-01 [--project flu_vaccination ...] \
        [--data-dir data] [--scratch /tmp/rebuild]

From the release's inputs.json (cohorts/inputs.py) and its warehouse's build.json
(warehouse/manifest.py), into a scratch data directory (never the live one):

1. raw: each partition the build could select, linked to the exact version file it read;
2. identity: pseudo_keys, opt_outs and contact_details linked to the versions recorded;
3. dbt: the project's files as they were (seeds, models, macros) from the object store;
4. code: the Python package that published the release and the GX suites it read
   (inputs.json `code_files`), from the same store, beside the dbt project (the restored
   package finds that dbt project and those suites where it looks for them);
5. earlier releases of the project: the files the release read (summaries, previous cohort);

every input checked against its recorded SHA-256 (a changed or missing one is reported and
the rebuild stops: it could not be exact). Then `dbt build` of models and seeds with the
recorded vars into a build folder of the scratch warehouse, the release published into
scratch/published/ by the restored package in a subprocess (`--replay-publish`, run from the
restored tree: the release code as it was, not today's), and every published file's SHA-256
compared with the original's (release.json's `files`, re-hashed on disk). A release recorded
before its code was kept is published by today's code and the report says so. release.json
and inputs.json are metadata (clock time, run id, who) and are not compared. Exit status 0
only when every file is identical. Nothing is written outside the scratch folder.

The same, launched from the Dagster UI: job `rebuild_release` (cohorts/rebuild_job.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dagster_project.cohorts import inputs as release_inputs
from dagster_project.cohorts import publish
from dagster_project.cohorts.registry import load_projects
from dagster_project.lib.files import sha256_file
from dagster_project.lib.zones import Zones
from dagster_project.sources import raw_zone
from dagster_project.sources.registry import load_registry
from dagster_project.warehouse import manifest
from dagster_project.warehouse.builds import promote
from dagster_project.warehouse.project import dbt_executable

METADATA = {"release.json", release_inputs.INPUTS_FILE}


class InputsChanged(RuntimeError):
    """A recorded input is missing or no longer has its recorded bytes."""


@dataclass
class Rebuilt:
    project: str
    run_date: str
    original: Path
    rebuilt: Path
    identical: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)   # in the original, not rebuilt
    extra: list[str] = field(default_factory=list)     # rebuilt, not in the original
    code_changed: bool = False
    code_restored: bool = False  # published by the recorded package, not today's
    libraries_changed: dict[str, tuple] = field(default_factory=dict)  # name -> (recorded, now)

    @property
    def exact(self) -> bool:
        return bool(self.identical) and not (self.different or self.missing or self.extra)

    def report(self) -> str:
        lines = [f"rebuild of {self.project} {self.run_date}: {self.original} vs {self.rebuilt}"]
        lines += [f"  identical  {name}" for name in self.identical]
        lines += [f"  DIFFERENT  {name}" for name in self.different]
        lines += [f"  MISSING    {name} (not produced by the rebuild)" for name in self.missing]
        lines += [f"  EXTRA      {name} (not in the original)" for name in self.extra]
        if self.code_restored:
            lines.append("  release code: the recorded Python package, restored and run in a subprocess")
        elif self.code_changed:
            lines.append("  note: no Python package recorded (published before it was kept) and today's "
                         "differs from the recorded version (git describe); the dbt project was restored")
        if self.libraries_changed:  # the restored code runs on today's libraries: say which moved
            moved = ", ".join(f"{k} {a} -> {b}" for k, a, b in
                              ((k, *v) for k, v in sorted(self.libraries_changed.items())))
            lines.append(f"  note: libraries differ from the recorded ones ({moved}); bytes may differ for that reason")
        verdict = "byte-for-byte identical" if self.exact else "NOT identical"
        lines.append(f"  {len(self.identical)} of {len(self.identical) + len(self.different) + len(self.missing)}"
                     f" published files identical: {verdict}")
        return "\n".join(lines)


def published_files(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every published file of a release folder (not its metadata)."""
    return {str(p.relative_to(folder)): sha256_file(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and str(p.relative_to(folder)) not in METADATA}


def _checked(path: Path, digest: str | None, what: str) -> Path:
    if not path.is_file():
        raise InputsChanged(f"{what}: {path} is missing")
    if digest is not None and sha256_file(path) != digest:
        raise InputsChanged(f"{what}: {path} no longer has the recorded SHA-256 {digest[:12]}...")
    return path


def _link(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link)


def restore(zones: Zones, used: dict, scratch: Zones, verify: bool = True) -> Path:
    """Lay out one release's recorded inputs under the scratch data directory (raw, identity,
    dbt project and Python package once per scratch; the project's earlier releases); the
    dbt project's folder (the package, when recorded, beside it)."""
    build = used["warehouse_build"]
    if build is None:
        raise InputsChanged("the release's warehouse recorded no build.json (built before manifests)")
    project_dir = scratch.data_dir.parent / "dbt"
    if not project_dir.exists():
        registry = load_registry()
        for entry in build["raw"]:
            version = _checked(zones.raw / entry["path"], entry["sha256"] if verify else None,
                               f"raw {entry['table']} {entry['extract_date']}")
            _link(version, raw_zone.partition_file(scratch.raw, registry[entry["table"]], entry["extract_date"]))
        identity = {**build["identity"], **used["identity"]}  # the release's own reads win
        for name, entry in sorted(identity.items()):
            _link(_checked(zones.identity / entry["path"], entry["sha256"] if verify else None,
                           f"identity {name}"), scratch.identity / name)
        for relative, digest in build["dbt_project"].items():
            source = _checked(manifest.object_path(zones, digest), digest, f"dbt project file {relative}")
            target = project_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        for relative, digest in (used.get("code_files") or {}).items():
            source = _checked(manifest.object_path(zones, digest), digest, f"Python file {relative}")
            target = project_dir.parent / relative  # <build>/dagster_project beside <build>/dbt
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    for run_date, files in used["earlier_releases"].items():
        for name, digest in files.items():
            source = _checked(zones.published / used["project"] / run_date / name, digest,
                              f"earlier release {run_date}")
            target = scratch.published / used["project"] / run_date / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return project_dir


def build_warehouse(scratch: Zones, project_dir: Path, build: dict) -> Path:
    """`dbt build` of seeds and models (tests do not change a table) with the recorded vars."""
    reference_date = build["reference_date"]
    database = scratch.warehouse_build(reference_date, "rebuild")
    database.parent.mkdir(parents=True, exist_ok=True)
    variables = {**build["dbt_vars"], "data_dir": str(scratch.data_dir), "warehouse_path": str(database)}
    command = [dbt_executable(), "build", "--quiet", "--project-dir", str(project_dir),
               "--profiles-dir", str(project_dir), "--target-path", str(project_dir / "target"),
               "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
               "--vars", json.dumps(variables)]
    done = subprocess.run(command, cwd=project_dir, capture_output=True, text=True,
                          env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    if done.returncode != 0:
        raise RuntimeError(f"dbt build of the rebuild failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")
    promote(scratch, reference_date, database)
    return database


def replay_publish(scratch: Zones, code_dir: Path, project_ids: list[str]) -> None:
    """Publish the releases into scratch with the restored package, in a subprocess run from
    `code_dir` (its own dagster_project first on the path: not this process's code)."""
    command = [sys.executable, "-m", "dagster_project.cohorts.rebuild", "--replay-publish",
               "--run-date", "-", "--data-dir", str(scratch.data_dir),
               *[a for p in project_ids for a in ("--project", p)]]
    env = {**os.environ, "PYTHONPATH": str(code_dir), "PHM_DATA_DIR": str(scratch.data_dir),
           "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(command, cwd=code_dir, capture_output=True, text=True, env=env)
    ran = Path(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None
    if done.returncode != 0 or ran is None or not ran.is_relative_to(code_dir):
        raise RuntimeError(f"publishing with the restored code failed (ran {ran}):\n"
                           f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _publish_here(data_dir: str, project_ids: list[str]) -> int:
    """--replay-publish: publish into `data_dir` with this process's package (the restored
    one, when run by replay_publish); prints the package's folder last, as proof of which."""
    import dagster_project

    projects, zones = load_projects(), Zones.at(data_dir)
    for project_id in project_ids:
        publish.publish_project(zones, projects[project_id], run_id="rebuild",
                                who={"user": "rebuild", "trigger": "rebuild"})
    print(Path(dagster_project.__file__).resolve().parent.parent)
    return 0


def library_changes(recorded: dict, now: dict) -> dict[str, tuple]:
    """Libraries (and Python) whose version differs between the recorded code and this process."""
    before = {**recorded.get("libraries", {}), "python": recorded.get("python")}
    after = {**now.get("libraries", {}), "python": now.get("python")}
    return {k: (before.get(k), after.get(k)) for k in sorted(set(before) | set(after))
            if before.get(k) is not None and before.get(k) != after.get(k)}


def compare(project_id: str, run_date: str, original: Path, rebuilt: Path, code_changed: bool,
            code_restored: bool = False) -> Rebuilt:
    before = published_files(original)
    after = published_files(rebuilt) if rebuilt.is_dir() else {}
    result = Rebuilt(project_id, run_date, original, rebuilt, code_changed=code_changed,
                     code_restored=code_restored)
    for name in sorted(set(before) | set(after)):
        if name not in after:
            result.missing.append(name)
        elif name not in before:
            result.extra.append(name)
        elif before[name] == after[name]:
            result.identical.append(name)
        else:
            result.different.append(name)
    return result


def rebuild_releases(zones: Zones, run_date: str, project_ids: list[str] | None, scratch_dir: Path,
                     verify: bool = True) -> list[Rebuilt]:
    """Rebuild releases of one run date (default: every project with one) from their recorded
    inputs under `scratch_dir`, and compare each with its original. Releases that recorded the
    same warehouse build and identity versions share one scratch warehouse (one dbt build)."""
    projects = load_projects()
    wanted = project_ids or [p for p in projects if (zones.published / p / run_date).is_dir()]
    if not wanted:
        raise InputsChanged(f"no release of {run_date} under {zones.published}")
    scratch_dir = Path(scratch_dir)
    if scratch_dir.exists() and any(scratch_dir.iterdir()):
        raise FileExistsError(f"scratch folder {scratch_dir} is not empty")
    groups: dict[str, list[tuple[str, dict]]] = {}
    for project_id in wanted:
        recorded = zones.published / project_id / run_date / release_inputs.INPUTS_FILE
        if not recorded.exists():
            raise InputsChanged(f"{recorded} does not exist: published before inputs were recorded")
        used = json.loads(recorded.read_text())
        key = json.dumps([used["warehouse_build"], used["identity"], used.get("code_files")], sort_keys=True)
        groups.setdefault(key, []).append((project_id, used))
    code_now = manifest.code_version()
    now = code_now.get("describe")
    results = []
    for n, members in enumerate(groups.values(), start=1):
        scratch = Zones.at(scratch_dir / f"build-{n}" / "data")
        for _, used in members:
            project_dir = restore(zones, used, scratch, verify)
        build_warehouse(scratch, project_dir, members[0][1]["warehouse_build"])
        restored = bool(members[0][1].get("code_files"))
        ids = [project_id for project_id, _ in members]
        if restored:
            replay_publish(scratch, project_dir.parent, ids)
        else:  # recorded before the package was kept: today's code, said in the report
            for project_id in ids:
                publish.publish_project(scratch, projects[project_id], run_id="rebuild",
                                        who={"user": "rebuild", "trigger": "rebuild"})
        for project_id, used in members:
            result = compare(project_id, run_date, zones.published / project_id / run_date,
                             scratch.published / project_id / run_date,
                             used["code"].get("describe") != now, code_restored=restored)
            result.libraries_changed = library_changes(used["code"], code_now)
            results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-date", required=True, help="the releases' run date (their reference date)")
    parser.add_argument("--project", action="append", help="project id (projects.yaml); repeatable; "
                        "default: every project released on that date")
    parser.add_argument("--data-dir", default=os.environ.get("PHM_DATA_DIR", "data"))
    parser.add_argument("--scratch", help="empty folder for the rebuild (default: <data-dir>/../rebuild-<date>)")
    parser.add_argument("--replay-publish", action="store_true", help=argparse.SUPPRESS)  # see replay_publish
    args = parser.parse_args(argv)
    if args.replay_publish:
        return _publish_here(args.data_dir, args.project or [])
    zones = Zones.at(args.data_dir, os.environ.get("PHM_LANDING_DIR"))
    scratch = Path(args.scratch) if args.scratch else zones.data_dir.parent / f"rebuild-{args.run_date}"
    try:
        results = rebuild_releases(zones, args.run_date, args.project, scratch)
    except InputsChanged as changed:
        print(f"cannot rebuild exactly: {changed}", file=sys.stderr)
        return 2
    print("\n".join(r.report() for r in results))
    exact = all(r.exact for r in results)
    print(f"{sum(r.exact for r in results)} of {len(results)} release(s) rebuilt byte for byte"
          + ("" if exact else ": see DIFFERENT/MISSING/EXTRA above"))
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
