"""`roi fold`: the fold run on the project's engine with its reconciliation, or its SQL for a
warehouse roi cannot reach."""

from __future__ import annotations

from datetime import date

import polars as pl

from roi.config import EngineSettings, ProjectConfig
from roi.fold.definition import DIALECTS, billing_fold, cost_lines_table, source_totals, to_sql
from roi.warehouse import Connection

RUNS_HERE = ("duckdb", "spark")  # engines roi runs the fold on; the others get --print-sql


def print_sql(engine: str, month_basis: str, month: date | None, table: str) -> str:
    """The fold and the source totals as SQL for `engine`, over `table` (a table or view with
    the fold's columns: see the README's "Beyond one machine")."""
    *database, name = table.split(".")
    tags_map = engine in RUNS_HERE or engine == "databricks"
    source = cost_lines_table(name, tags_map)
    if database:
        source = _qualified(source, name, tuple(database))
    fold = to_sql(billing_fold(source, month_basis, month, by_file=True), engine)
    totals = to_sql(source_totals(source, month_basis, month), engine)
    return (
        f"-- roi fold for {engine} ({DIALECTS[engine]} dialect), months by {month_basis}\n"
        "-- 1. The line groups: save the result as Parquet or CSV for roi.\n"
        f"{fold};\n\n"
        "-- 2. The source totals per month and currency (reconciliation).\n"
        f"{totals};\n"
    )


def _qualified(source: object, name: str, database: tuple[str, ...]) -> object:
    import ibis

    schema = source.schema()  # type: ignore[attr-defined]
    if len(database) == 1:
        return ibis.table(schema, name=name, database=database[0])
    return ibis.table(schema, name=name, database=".".join(database[1:]), catalog=database[0])


def fold_summary(
    con: Connection, project: ProjectConfig, engine: EngineSettings, month: date | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The line groups folded on `engine`, and per month and currency their count, lines and
    sums against the source totals computed on the same engine (difference must be 0)."""
    from roi.attribution.ledger import fold_lines, tag_keys
    from roi.fold.engines import source_total_frame

    settings = project.attribution
    keys = tag_keys(project.models, project.pools, settings)
    groups = fold_lines(con, keys, settings, month, engine=engine)
    totals = source_total_frame(con, settings.month_basis, month, engine)
    folded = groups.group_by("month", "currency").agg(
        pl.len().alias("groups"),
        pl.col("line_count").sum().alias("folded_lines"),
        pl.col("amount").sum().alias("folded_effective"),
        pl.col("billed_amount").sum().alias("folded_billed"),
    )
    summary = (
        totals.join(folded, on=["month", "currency"], how="full", coalesce=True)
        .with_columns(
            pl.col("groups").fill_null(0),
            difference=pl.col("folded_effective").fill_null(0) - pl.col("effective").fill_null(0),
            billed_difference=pl.col("folded_billed").fill_null(0) - pl.col("billed").fill_null(0),
        )
        .select(
            "month",
            "currency",
            "groups",
            "lines",
            "effective",
            "billed",
            "difference",
            "billed_difference",
        )
        .sort("month", "currency")
    )
    return groups, summary
