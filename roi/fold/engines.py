"""Running the folds: on the warehouse's DuckDB connection (the default) or on Spark.

Both run the one definition (`roi.fold.definition`, `roi.fold.usage`, `roi.fold.gpu`) compiled
to their SQL. DuckDB runs it on the warehouse connection, where `cost_lines` is the view over
the warehouse's Parquet files; Spark reads the same files, or the lines where they live
(`[engine] billing`). The LLM requests and GPU samples are read where they live too
(`[engine] usage`, `gpu_usage`), else the warehouse's tables reach Spark as Arrow.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import polars as pl

from roi import warehouse
from roi.config import EngineSettings
from roi.fold.kept import kept
from roi.fold.requests import Requests
from roi.tables import GPU_USAGE, INFERENCE_USAGE, Table
from roi.warehouse import Connection

if TYPE_CHECKING:
    from roi.fold.definition import MonthFilter

# The definitions are Ibis expressions, imported where a query is compiled: compiled queries
# are kept (`roi.fold.kept`), so that running a fold does not import Ibis.

DUCKDB = EngineSettings()


@lru_cache(maxsize=64)
@kept
def fold_sql(
    engine: str,
    month_basis: str,
    months: MonthFilter,
    quantities: bool = False,
    tags_map: bool = True,
    by_file: bool = False,
) -> str:
    """The fold as one query in `engine`'s SQL (compiled once per choice of months)."""
    from roi.fold.definition import billing_fold, cost_lines_table, to_sql

    source = cost_lines_table(tags_map=tags_map)
    expr = billing_fold(source, month_basis, months, quantities, by_file)
    return to_sql(expr, engine)


@lru_cache(maxsize=64)
@kept
def totals_sql(engine: str, month_basis: str, months: MonthFilter, tags_map: bool = True) -> str:
    """The source totals per month and currency as one query in `engine`'s SQL."""
    from roi.fold.definition import cost_lines_table, source_totals, to_sql

    return to_sql(source_totals(cost_lines_table(tags_map=tags_map), month_basis, months), engine)


def _warehouse_files(con: Connection) -> list[str]:
    from roi.warehouse.cost_store import current_files, data_dir

    data = data_dir(warehouse.database_file(con))
    return [str(data / name) for name in current_files(con)]


def _on_spark(con: Connection, engine: EngineSettings) -> bool:
    """Register the billing lines in the engine's session; whether they have tag maps."""
    from roi.fold.spark import register_billing, session

    files = [] if engine.billing else _warehouse_files(con)
    return register_billing(session(engine), engine, files)


def fold_groups(
    con: Connection,
    month_basis: str,
    months: MonthFilter,
    quantities: bool = False,
    engine: EngineSettings = DUCKDB,
) -> pl.DataFrame:
    """The billing lines folded into groups by `engine` (see `billing_fold`), as a frame."""
    if engine.kind == "duckdb":
        # Every tagged line in the warehouse holds its tag text (migration 22): the fold
        # reads the text alone, not the maps beside it (a fifth of its time at 10M lines).
        sql = fold_sql("duckdb", month_basis, months, quantities, tags_map=False)
        # DuckDB sums BIGINT counts as HUGEINT: the groups' count is a BIGINT everywhere.
        return warehouse.fetch_frame(con, sql).with_columns(pl.col("line_count").cast(pl.Int64))
    from roi.fold.spark import collect, session

    tags_map = _on_spark(con, engine)
    by_file = engine.billing is not None  # no manifest names the files: the groups do
    sql = fold_sql("spark", month_basis, months, quantities, tags_map, by_file)
    return collect(session(engine), sql, engine)


def source_total_frame(
    con: Connection, month_basis: str, months: MonthFilter, engine: EngineSettings = DUCKDB
) -> pl.DataFrame:
    """Per month and currency, the source's billed and effective totals and line count,
    computed where the lines live."""
    if engine.kind == "duckdb":
        return warehouse.fetch_frame(con, totals_sql("duckdb", month_basis, months))
    from roi.fold.spark import collect, session

    tags_map = _on_spark(con, engine)
    return collect(session(engine), totals_sql("spark", month_basis, months, tags_map), engine)


@lru_cache(maxsize=64)
@kept
def pool_usage_sql(engine: str, requests: Requests, months: MonthFilter) -> str:
    """A pool's LLM requests fold (`pool_usage`) as one query in `engine`'s SQL."""
    from roi.fold.definition import to_sql
    from roi.fold.usage import inference_usage_table, pool_usage

    return to_sql(pool_usage(inference_usage_table(), requests, months), engine)


@lru_cache(maxsize=64)
@kept
def unpooled_usage_sql(
    engine: str, pooled: tuple[Requests, ...], self_hosted: tuple[str, ...], months: MonthFilter
) -> str:
    """The unpooled LLM requests fold (`unpooled_usage`) as one query in `engine`'s SQL."""
    from roi.fold.definition import to_sql
    from roi.fold.usage import inference_usage_table, unpooled_usage

    return to_sql(unpooled_usage(inference_usage_table(), pooled, self_hosted, months), engine)


def _usage_on_spark(
    con: Connection, engine: EngineSettings, contract: Table, *sql: str
) -> list[pl.DataFrame]:
    """Run queries over the LLM requests or the GPU samples (`contract`) on Spark: read where
    they live (`[engine] usage`, `gpu_usage`), else the warehouse's table as Arrow."""
    from roi.fold.gpu import GPU_COLUMNS
    from roi.fold.spark import collect, register_usage, session
    from roi.fold.usage import USAGE_COLUMNS

    columns = USAGE_COLUMNS if contract is INFERENCE_USAGE else GPU_COLUMNS
    select = f"SELECT {', '.join(columns)} FROM {contract.name}"
    spark = session(engine)
    register_usage(spark, engine, contract, columns, lambda: warehouse.fetch_arrow(con, select))
    return [collect(spark, query, engine) for query in sql]


def pool_usage_frame(
    con: Connection, requests: Requests, months: MonthFilter, engine: EngineSettings = DUCKDB
) -> pl.DataFrame:
    """A pool's LLM requests folded by `engine` (see `pool_usage`), in a stable order."""
    if engine.kind == "duckdb":
        frame = warehouse.fetch_frame(con, pool_usage_sql("duckdb", requests, months))
    else:
        sql = pool_usage_sql("spark", requests, months)
        (frame,) = _usage_on_spark(con, engine, INFERENCE_USAGE, sql)
    return frame.sort(frame.columns, nulls_last=True)


def unpooled_usage_frame(
    con: Connection,
    pooled: tuple[Requests, ...],
    self_hosted: tuple[str, ...],
    months: MonthFilter,
    engine: EngineSettings = DUCKDB,
) -> pl.DataFrame:
    """The LLM requests no pool takes, folded by `engine` (see `unpooled_usage`), in a
    stable order."""
    if engine.kind == "duckdb":
        sql = unpooled_usage_sql("duckdb", pooled, self_hosted, months)
        frame = warehouse.fetch_frame(con, sql)
    else:
        sql = unpooled_usage_sql("spark", pooled, self_hosted, months)
        (frame,) = _usage_on_spark(con, engine, INFERENCE_USAGE, sql)
    return frame.sort(frame.columns, nulls_last=True)


@lru_cache(maxsize=64)
@kept
def gpu_sql(engine: str, clusters: tuple[str, ...], months: MonthFilter) -> tuple[str, str]:
    """A GPU pool's folds (`gpu_held`, `gpu_capacity`) as queries in `engine`'s SQL."""
    from roi.fold.definition import to_sql
    from roi.fold.gpu import gpu_capacity, gpu_held, gpu_usage_table

    source = gpu_usage_table()
    return (
        to_sql(gpu_held(source, clusters, months), engine),
        to_sql(gpu_capacity(source, clusters, months), engine),
    )


def gpu_frames(
    con: Connection,
    clusters: tuple[str, ...],
    months: MonthFilter,
    engine: EngineSettings = DUCKDB,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A GPU pool's samples folded by `engine`: GPU-seconds held and busy per month,
    namespace, workload and pod (`gpu_held`), and the capacity per month (`gpu_capacity`),
    each in a stable order."""
    if engine.kind == "duckdb":
        held_sql, capacity_sql = gpu_sql("duckdb", clusters, months)
        held = warehouse.fetch_frame(con, held_sql)
        capacity = warehouse.fetch_frame(con, capacity_sql)
    else:
        queries = gpu_sql("spark", clusters, months)
        held, capacity = _usage_on_spark(con, engine, GPU_USAGE, *queries)
    return held.sort(held.columns, nulls_last=True), capacity.sort("month")
