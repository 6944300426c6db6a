"""Row counts and column types on every dbt materialisation (what the UI shows per asset)."""

import dagster as dg
import duckdb

from dagster_project.warehouse import assets


def test_dbt_outputs_carry_row_count_and_column_types(tmp_path, monkeypatch):
    database = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(database))
    con.execute("create schema marts")
    con.execute("create table marts.dim_person as select 'p' || i as pseudo_id, i as age from range(7) t(i)")
    con.close()
    monkeypatch.setattr(assets, "_manifest_nodes", lambda: {
        "model.phm.dim_person": {"relation_name": '"warehouse"."marts"."dim_person"'}})
    events = [dg.Output(None, output_name="warehouse__dim_person", metadata={"unique_id": "model.phm.dim_person"}),
              dg.Output(None, output_name="warehouse__gone", metadata={"unique_id": "model.phm.gone"})]
    out = list(assets.with_table_facts(events, database))
    meta = out[0].metadata
    assert meta["dagster/row_count"].value == 7
    schema = meta["dagster/column_schema"].value
    assert [(c.name, c.type) for c in schema.columns] == [("pseudo_id", "VARCHAR"), ("age", "BIGINT")]
    assert "dagster/row_count" not in out[1].metadata  # no relation: passed through unchanged
