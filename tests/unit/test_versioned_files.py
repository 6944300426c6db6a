"""Versioned outputs (lib/files.py write_versioned) and the per-date warehouse path (Zones)."""

from __future__ import annotations

import os

import polars as pl
import pytest

from dagster_project.lib.files import (
    adopt_version,
    point_at,
    sha256_file,
    version_store,
    write_parquet_versioned,
)
from dagster_project.lib.zones import Zones


def test_each_write_is_a_new_immutable_version_and_the_link_moves(tmp_path):
    path = tmp_path / "identity" / "pseudo_keys.parquet"
    first = write_parquet_versioned(pl.DataFrame({"pseudo_id": ["a", "b"]}), path)
    assert path.is_symlink() and path.resolve() == first
    assert first.parent == version_store(path) and first.name == f"{sha256_file(first)}.parquet"
    assert not os.readlink(path).startswith("/")  # relative: the zone can be moved whole
    second = write_parquet_versioned(pl.DataFrame({"pseudo_id": ["a", "b", "c"]}), path)
    assert second != first and path.resolve() == second
    assert pl.read_parquet(first)["pseudo_id"].to_list() == ["a", "b"]  # the old one still reads
    assert pl.read_parquet(path).height == 3
    again = write_parquet_versioned(pl.DataFrame({"pseudo_id": ["a", "b"]}), path)
    assert again == first and len(list(version_store(path).iterdir())) == 2  # same bytes, same version
    assert not os.stat(first).st_mode & 0o222  # read-only (a rebuild re-hashes it regardless)


def test_a_plain_file_is_adopted_as_a_version_not_overwritten(tmp_path):
    path = tmp_path / "opt_outs.parquet"
    pl.DataFrame({"pseudo_id": ["old"]}).write_parquet(path)
    digest = sha256_file(path)
    adopted = adopt_version(path)
    assert adopted.name == f"{digest}.parquet" and path.is_symlink()
    newer = write_parquet_versioned(pl.DataFrame({"pseudo_id": ["new"]}), path)
    assert pl.read_parquet(adopted)["pseudo_id"].to_list() == ["old"] and path.resolve() == newer
    assert adopt_version(tmp_path / "absent.parquet") is None


def test_each_build_has_its_own_folder_and_the_links_name_each_date_s_last_good_build(tmp_path):
    from dagster_project.warehouse.builds import builds_of, new_build_id, promote

    zones = Zones.at(tmp_path / "data")
    assert zones.warehouse_db == zones.warehouse / "warehouse.duckdb"  # nothing built yet
    october = zones.warehouse_build("2026-10-01", new_build_id("aaaaaaaa-run"))
    november = zones.warehouse_build("2026-11-01", new_build_id("bbbbbbbb-run"))
    assert october.parent.parent.name == "2026-10-01" and october.parent.name.endswith("-aaaaaaaa")
    for db in (october, november):
        db.parent.mkdir(parents=True)
        db.write_text(db.parent.parent.name)
        promote(zones, db.parent.parent.name, db)
    assert zones.warehouse_db == november and zones.warehouse_at("2026-10-01") == october
    # the same month built again: a new folder; the earlier build is untouched and addressable
    again = zones.warehouse_build("2026-10-01", new_build_id("cccccccc-run"))
    assert again != october
    again.parent.mkdir(parents=True)
    again.write_text("2026-10-01 again")
    assert zones.warehouse_at("2026-10-01") == october  # not promoted yet: a failed build moves nothing
    promote(zones, "2026-10-01", again)
    assert zones.warehouse_at("2026-10-01") == again and zones.warehouse_db == again
    assert october.read_text() == "2026-10-01" and builds_of(zones, "2026-10-01") == sorted(
        [october.parent, again.parent])
    assert (zones.warehouse / "warehouse.duckdb").is_symlink()  # relative links, moved by rename
    assert not (zones.warehouse / "warehouse.duckdb").readlink().is_absolute()
    assert november.read_text() == "2026-11-01"


def test_a_date_built_before_build_folders_is_kept_when_it_is_built_again(tmp_path):
    from dagster_project.warehouse.builds import UnmigratedWarehouse, new_build_id, promote
    from dagster_project.warehouse.migrate import LEGACY, main, migrate

    zones = Zones.at(tmp_path / "data")
    plain = zones.warehouse / "2026-10-01" / "warehouse.duckdb"  # the layout of earlier builds
    plain.parent.mkdir(parents=True)
    plain.write_text("built before folders")
    (plain.parent / "build.json").write_text("{}")
    point_at(zones.warehouse / "warehouse.duckdb", plain)
    again = zones.warehouse_build("2026-10-01", new_build_id())
    again.parent.mkdir(parents=True)
    again.write_text("new")
    # a build never migrates: the plain warehouse is not replaced, the one-off command is named
    with pytest.raises(UnmigratedWarehouse, match="python -m dagster_project.warehouse.migrate"):
        promote(zones, "2026-10-01", again)
    assert plain.read_text() == "built before folders" and not plain.is_symlink()
    assert main(["--data-dir", str(zones.data_dir)]) == 0  # the one-off migration
    assert zones.warehouse_at("2026-10-01").read_text() == "built before folders"  # still read by date
    assert zones.warehouse_db.read_text() == "built before folders"
    assert migrate(zones) == []  # once is enough
    promote(zones, "2026-10-01", again)
    assert zones.warehouse_at("2026-10-01") == again and zones.warehouse_db == again
    assert (plain.parent / LEGACY / "warehouse.duckdb").read_text() == "built before folders"
    assert (plain.parent / LEGACY / "build.json").exists() and not (plain.parent / "build.json").exists()
