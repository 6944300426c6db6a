{#-
  What downstream may read of a raw table (ARCHITECTURE: only published partitions),
  as of the reference date, so that a past month is rebuilt exactly:

  - snapshot: the newest extract with extract_date <= reference date;
  - increment: every extract with extract_date <= reference date, a repeated record key
    keeping its latest version.

  The source is read with DuckDB read_parquet(hive_partitioning) over
  raw/<source>/<table>/extract_date=*/data.parquet (staging files `.staging-*` never match),
  the location dbt_project.yml sets once for every raw source.
  The partition filter is a constant, so DuckDB prunes the other extracts' files.
-#}
{% macro published_snapshot(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set newest = none -%}
    {%- if execute -%}
        {%- set found = run_query(
            "select max(cast(regexp_extract(file, 'extract_date=(\\d{4}-\\d{2}-\\d{2})', 1) as date)) "
            ~ "from glob('" ~ raw_glob(source_name, table_name) ~ "') "
            ~ "where cast(regexp_extract(file, 'extract_date=(\\d{4}-\\d{2}-\\d{2})', 1) as date) <= " ~ reference_date()) -%}
        {%- set newest = found.columns[0].values()[0] -%}
        {%- if newest is none -%}
            {{ exceptions.raise_compiler_error(
                "no published extract of " ~ source_name ~ "." ~ table_name ~ " on or before "
                ~ var('reference_date') ~ " under " ~ raw_glob(source_name, table_name)
                ~ ": ingest it first (or choose a later reference_date)") }}
        {%- endif -%}
    {%- endif -%}
    select * from {{ relation }}
    where extract_date = date '{{ newest or "1900-01-01" }}'
{%- endmacro %}

{% macro published_increment(source_name, table_name, record_key) -%}
    select * from {{ source(source_name, table_name) }}
    where extract_date <= {{ reference_date() }}
    qualify row_number() over (
        partition by {{ record_key | join(', ') }} order by extract_date desc) = 1
{%- endmacro %}

{% macro raw_glob(source_name, table_name) -%}
    {#- the path inside the source's read_parquet('<glob>', ...): the one location set in
        dbt_project.yml (sources: +meta: external_location), never a second copy -#}
    {{ source(source_name, table_name).external.split("'")[1] }}
{%- endmacro %}
