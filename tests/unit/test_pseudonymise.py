"""Pseudo ids are keyed: the key comes from configuration and changes every pseudo id."""

import hashlib
import hmac

import polars as pl
import pytest

from dagster_project.linkage.pseudonymise import opted_out, pseudo_id, pseudo_keys, require_key


def test_pseudo_id_is_hmac_sha256_of_the_person_id():
    key = b"a-key-of-sixteen-bytes"
    assert pseudo_id(key, "P0000000001") == hmac.new(key, b"P0000000001", hashlib.sha256).hexdigest()[:32]
    assert pseudo_id(key, "P0000000001") != pseudo_id(b"another-key-of-16-bytes", "P0000000001")
    assert pseudo_id(key, "P0000000001") != hashlib.sha256(b"P0000000001").hexdigest()[:32]


def test_a_missing_or_short_key_is_refused():
    for bad in (None, "", "short"):
        with pytest.raises(ValueError, match="PHM_PSEUDO_KEY"):
            require_key(bad)


def test_keys_carry_record_keys_and_pseudo_ids_only():
    index = pl.DataFrame({"source": ["gp", "acute"], "table": ["patients", "apc"],
                          "practice_code": ["D82001", None], "record_id": ["P1", "S1"],
                          "person_id": ["P0000000001", "P0000000001"], "match_probability": [0.99, 0.99]})
    keys = pseudo_keys(index, b"a-key-of-sixteen-bytes")
    assert keys.columns == ["source", "table", "practice_code", "record_id", "pseudo_id", "record_key"]
    assert keys["pseudo_id"].n_unique() == 1


def test_record_keys_are_keyed_not_plain_hashes_of_local_ids():
    index = pl.DataFrame({"source": ["gp"], "table": ["patients"], "practice_code": ["D82001"],
                          "record_id": ["P000123"], "person_id": ["Pabc"]})
    key = pseudo_keys(index, b"a-key-of-sixteen-bytes")["record_key"].item()
    plain = [hashlib.md5(b"D82001:P000123").hexdigest(), hashlib.sha256(b"D82001:P000123").hexdigest()]
    assert key not in plain and not any(p.startswith(key) for p in plain)
    assert key != pseudo_keys(index, b"another-key-of-16-bytes")["record_key"].item()


def test_the_demo_key_is_refused_outside_the_synthetic_demo(tmp_path):
    demo = "DEMO-KEY-synthetic-data-only-not-a-secret"
    with pytest.raises(ValueError, match="PHM_PSEUDO_KEY.*public demo key"):
        require_key(demo, tmp_path)
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "people.parquet").write_bytes(b"PAR1")
    assert require_key(demo, tmp_path) == demo.encode()
    assert require_key("a-real-secret-of-enough-length", tmp_path.parent)


def test_the_makefile_sets_the_demo_key_only_for_the_synthetic_demo(tmp_path):
    import os
    import subprocess
    from pathlib import Path as P

    repo = P(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("PHM_PSEUDO_KEY", "MAKEFLAGS", "MAKELEVEL")}

    def key_for(data_dir):
        out = subprocess.run(["make", "-s", "-C", str(repo), "print-pseudo-key", f"PHM_DATA_DIR={data_dir}"],
                             env=env, capture_output=True, text=True, check=True)
        return out.stdout.strip()

    real = tmp_path / "real"
    (real / "landing" / "gp" / "2026-10-01").mkdir(parents=True)
    (real / "landing" / "gp" / "2026-10-01" / "patients.csv").write_text("x\n")
    assert key_for(real) == ""  # real extracts, no ground truth: no key unless you set one
    demo = tmp_path / "demo"
    (demo / "truth").mkdir(parents=True)
    (demo / "truth" / "people.parquet").write_bytes(b"PAR1")
    assert key_for(demo).startswith("DEMO-KEY")
    assert key_for(tmp_path / "empty").startswith("DEMO-KEY")  # make run generates the demo there


def test_opt_out_on_one_record_removes_the_linked_person():
    keys = pl.DataFrame({"source": ["gp", "acute"], "table": ["patients", "apc"],
                         "practice_code": ["D82001", None], "record_id": ["P1", "S1"], "pseudo_id": ["x", "x"]})
    records = keys.drop("pseudo_id").with_columns(pl.Series("nhs_number", ["9434765919", None]))
    out = opted_out(records, keys, pl.DataFrame({"nhs_number": ["9434765919", "123"]}))
    assert out["pseudo_id"].to_list() == ["x"]
