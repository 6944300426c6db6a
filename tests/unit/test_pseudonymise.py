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
    assert keys.columns == ["source", "table", "practice_code", "record_id", "pseudo_id"]
    assert keys["pseudo_id"].n_unique() == 1


def test_opt_out_on_one_record_removes_the_linked_person():
    keys = pl.DataFrame({"source": ["gp", "acute"], "table": ["patients", "apc"],
                         "practice_code": ["D82001", None], "record_id": ["P1", "S1"], "pseudo_id": ["x", "x"]})
    records = keys.drop("pseudo_id").with_columns(pl.Series("nhs_number", ["9434765919", None]))
    out = opted_out(records, keys, pl.DataFrame({"nhs_number": ["9434765919", "123"]}))
    assert out["pseudo_id"].to_list() == ["x"]
