"""Peer linkage methods on the synthetic ICS, beside the platform (benchmarks only).

Each takes the identity profiles the platform links (`identity/profiles.parquet`: the
cleaned, distinct identity fields; the same input for every method) and the record ->
profile map, and returns a person id per record (evaluation.KEY + person_id):
- `splink_default`: a Splink model as Splink's documentation writes one: the comparison
  library's name, date-of-birth and postcode comparisons, exact NHS number and sex,
  the usual blocking rules, prior from deterministic rules (recall 0.7), u by random
  sampling, m by EM, clustered at 0.95. No custom levels, fixes or floors.
- `recordlinkage`: the recordlinkage package on exact NHS number, Jaro-Winkler names,
  exact date of birth, postcode and sex; blocked on NHS number, full name, date of birth
  + sex and postcode; connected components of the matches, classified two ways: its
  unsupervised ECM classifier (`recordlinkage_ecm`; on this data it calls nearly every
  blocked pair a match) and its tutorial's rule, more than 3 of the 6 fields agree
  (`recordlinkage_rule`).
(NHS-number-only is `evaluation.nhs_number_baseline`.)
"""

from __future__ import annotations

import logging

import polars as pl

COLUMNS = ["unique_id", "nhs_number", "given_name", "family_name", "date_of_birth", "sex", "postcode"]


def _to_records(record_map: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    return record_map.join(clusters, on="unique_id", how="left").select(
        "source", "table", "practice_code", "record_id",
        pl.coalesce(pl.col("cluster_id").cast(pl.Utf8), pl.col("unique_id")).alias("person_id"))


def splink_default(profiles: pl.DataFrame, record_map: pl.DataFrame) -> pl.DataFrame:
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    df = profiles.select(COLUMNS)
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="unique_id",
        comparisons=[
            cl.ExactMatch("nhs_number"),
            cl.NameComparison("given_name"), cl.NameComparison("family_name"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=False),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("sex"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("nhs_number"), block_on("given_name", "family_name"), block_on("family_name", "date_of_birth"),
            block_on("given_name", "date_of_birth"), block_on("postcode", "date_of_birth"),
            block_on("postcode", "family_name"),
        ],
    )
    db_api = DuckDBAPI(connection=duckdb.connect())
    linker = Linker(db_api.register(df.to_arrow()), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nhs_number"), block_on("given_name", "family_name", "date_of_birth")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    pred = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.95)
    frame = pl.from_arrow(clusters.as_duckdbpyrelation().select("unique_id", "cluster_id").to_arrow_table())
    return _to_records(record_map, frame)


def recordlinkage(profiles: pl.DataFrame, record_map: pl.DataFrame) -> dict[str, pl.DataFrame]:
    import recordlinkage as rl

    df = profiles.select(COLUMNS).with_columns(pl.col("date_of_birth").cast(pl.Utf8)).to_pandas().set_index("unique_id")
    index = rl.Index()
    index.block("nhs_number")
    index.block(["given_name", "family_name"])
    index.block(["date_of_birth", "sex"])
    index.block("postcode")
    pairs = index.index(df)
    compare = rl.Compare()
    compare.exact("nhs_number", "nhs_number", label="nhs_number")
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given")
    compare.string("family_name", "family_name", method="jarowinkler", threshold=0.85, label="family")
    compare.exact("date_of_birth", "date_of_birth", label="dob")
    compare.exact("postcode", "postcode", label="postcode")
    compare.exact("sex", "sex", label="sex")
    features = compare.compute(pairs, df)
    out = {}
    for name, matches in (("recordlinkage_ecm", rl.ECMClassifier(binarize=0.5).fit_predict(features)),
                          ("recordlinkage_rule", features[features.sum(axis=1) > 3].index)):
        edges = pl.DataFrame({"a": [m[0] for m in matches], "b": [m[1] for m in matches]},
                             schema={"a": pl.Utf8, "b": pl.Utf8})
        out[name] = _to_records(record_map, components(profiles["unique_id"], edges))
    return out


def components(ids: pl.Series, edges: pl.DataFrame) -> pl.DataFrame:
    """unique_id -> cluster_id: connected components by repeated minimum-label propagation."""
    labels = pl.DataFrame({"node": ids, "label": ids})
    both = pl.concat([edges, edges.select(pl.col("b").alias("a"), pl.col("a").alias("b"))])
    while True:
        proposed = both.join(labels, left_on="b", right_on="node").group_by("a").agg(pl.col("label").min().alias("new"))
        updated = labels.join(proposed, left_on="node", right_on="a", how="left").with_columns(
            pl.min_horizontal("label", pl.col("new").fill_null(pl.col("label"))).alias("label2"))
        if (updated["label2"] == updated["label"]).all():
            break
        labels = updated.select("node", pl.col("label2").alias("label"))
    return labels.select(pl.col("node").alias("unique_id"), pl.col("label").alias("cluster_id"))
