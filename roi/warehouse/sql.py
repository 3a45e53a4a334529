"""SQL on a warehouse connection: statements, fetches, transactions and registered frames.

The only place (with its package) that imports duckdb: every other module talks to DuckDB
through these helpers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from roi.errors import QueryError, WarehouseError

Connection = duckdb.DuckDBPyConnection
DuckDBError = duckdb.Error


@contextmanager
def transaction(con: Connection) -> Iterator[Connection]:
    """Run the body in one transaction: commit on success, roll back on any exception."""
    execute(con, "BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        execute(con, "ROLLBACK")
        raise
    execute(con, "COMMIT")


def register(con: Connection, name: str, frame: pl.DataFrame) -> None:
    """Expose a Polars frame to SQL as a view named `name` (zero-copy through Arrow)."""
    con.register(name, frame.to_arrow())


def unregister(con: Connection, name: str) -> None:
    """Drop a view created by `register`."""
    con.unregister(name)


@contextmanager
def registered(con: Connection, name: str, frame: pl.DataFrame) -> Iterator[str]:
    """Register `frame` as `name` for the duration of the block."""
    register(con, name, frame)
    try:
        yield name
    except BaseException:
        # In an aborted transaction the unregister fails too: keep the original error.
        with contextlib.suppress(duckdb.Error):
            unregister(con, name)
        raise
    unregister(con, name)


def fetch_frame(con: Connection, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
    """Run a query and return the result as a Polars frame."""
    result = pl.from_arrow(con.sql(sql, params=list(params) if params else None).to_arrow_table())
    assert isinstance(result, pl.DataFrame)
    return result


def fetch_arrow(con: Connection, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
    """Run a query and return the result as an Arrow table."""
    table = con.sql(sql, params=list(params) if params else None).to_arrow_table()
    assert isinstance(table, pa.Table)
    return table


def fetch_one(con: Connection, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...]:
    """Run a query expected to return exactly one row."""
    rows = con.execute(sql, list(params) if params else []).fetchall()
    if not rows:
        raise QueryError(f"query returned no row: {sql}")
    return tuple(rows[0])


def fetch_all(
    con: Connection, sql: str, params: Sequence[Any] | None = None
) -> list[tuple[Any, ...]]:
    """Run a query and return every row as a tuple."""
    return [tuple(r) for r in con.execute(sql, list(params) if params else []).fetchall()]


def execute(con: Connection, sql: str, params: Sequence[Any] | None = None) -> None:
    """Run a statement that returns nothing useful (its result is run to the end)."""
    con.execute(sql, list(params) if params else [])
    con.complete()


def table_columns(con: Connection, table: str) -> dict[str, str]:
    """Column name → DuckDB type of a main-schema table, in table order."""
    rows = fetch_all(
        con,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    )
    return {str(name): str(dtype) for name, dtype in rows}


def database_file(con: Connection) -> Path:
    """The file of the connection's database."""
    rows = fetch_all(
        con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    )
    if not rows or not rows[0][0]:
        raise WarehouseError(
            "the connection has no database file; open the warehouse with connect()"
        )
    return Path(str(rows[0][0]))


def schema_version(con: Connection) -> int:
    """Return the highest applied migration number (0 for an empty database)."""
    # duckdb_tables(), not information_schema (which builds every view: twice the time, on
    # every open).
    exists = fetch_one(
        con,
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        "AND table_name = '_migrations'",
    )
    if not exists[0]:
        return 0
    return int(fetch_one(con, "SELECT coalesce(max(version), 0) FROM _migrations")[0])


def table_row_counts(con: Connection) -> dict[str, int]:
    """Row count of every table in the main schema, by name."""
    names = [
        str(r[0])
        for r in fetch_all(
            con,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "ORDER BY table_name",
        )
    ]
    return {name: int(fetch_one(con, f'SELECT count(*) FROM "{name}"')[0]) for name in names}
