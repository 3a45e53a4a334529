"""The warehouse: the only package that imports duckdb.

- `sql`: statements, fetches, transactions and registered frames on a connection;
- `connection`: opening the file (DuckDB's lock, roi's writer lock, migrations on open);
- `migrations`: the numbered schema history;
- `cost_store`: billing lines as Parquet files beside the DuckDB file, and the `cost_lines` view;
- `sandbox`: `roi query`'s read-only sandbox.

Its names are re-exported here: `from roi import warehouse; warehouse.fetch_all(...)`.
"""

from __future__ import annotations

from roi.vocabulary import COMMIT_WAIT_SECONDS, READ_WAIT_SECONDS
from roi.warehouse.connection import (
    DEFAULT_MEMORY_LIMIT,
    connect,
    migrate,
    open_warehouse,
    upgrade,
    writer_lock,
)
from roi.warehouse.migrations import LATEST_VERSION, MIGRATIONS
from roi.warehouse.sandbox import check_read_only, run_user_query, sandbox
from roi.warehouse.sql import (
    Connection,
    DuckDBError,
    database_file,
    execute,
    fetch_all,
    fetch_arrow,
    fetch_frame,
    fetch_one,
    register,
    registered,
    schema_version,
    table_columns,
    table_row_counts,
    transaction,
    unregister,
)

__all__ = [
    "COMMIT_WAIT_SECONDS",
    "DEFAULT_MEMORY_LIMIT",
    "LATEST_VERSION",
    "MIGRATIONS",
    "READ_WAIT_SECONDS",
    "Connection",
    "DuckDBError",
    "check_read_only",
    "connect",
    "database_file",
    "execute",
    "fetch_all",
    "fetch_arrow",
    "fetch_frame",
    "fetch_one",
    "migrate",
    "open_warehouse",
    "register",
    "registered",
    "run_user_query",
    "sandbox",
    "schema_version",
    "table_columns",
    "table_row_counts",
    "transaction",
    "unregister",
    "upgrade",
    "writer_lock",
]
