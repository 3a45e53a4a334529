"""The fold's SQL for a warehouse roi cannot reach (`roi fold --print-sql`); the fold run on
the project's engine with its reconciliation is `roi.attribution.reconcile.fold_summary`."""

from __future__ import annotations

from datetime import date

from roi.fold.definition import DIALECTS, billing_fold, cost_lines_table, source_totals, to_sql

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
