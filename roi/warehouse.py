"""The DuckDB warehouse: the only module that imports duckdb.

One file (default `<project>/roi.duckdb`). Writers hold DuckDB's file lock for the whole run, so
a second process gets `WarehouseBusy` instead of a stack trace. Readers open read-only.
Schema changes are numbered migrations (`roi.migrations`) recorded in `_migrations`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from roi.errors import QueryError, WarehouseBusy, WarehouseError
from roi.migrations import LATEST_VERSION, MIGRATIONS

Connection = duckdb.DuckDBPyConnection

_LOCK_PID = re.compile(r"\(PID (\d+)\)")
# How long a reader waits by default while a writer holds the file for its final transaction.
READ_WAIT_SECONDS = 30.0
# How long a writer waits, with its rows staged, for readers to close the file (queries are short).
COMMIT_WAIT_SECONDS = 600.0
_POLL_SECONDS = 0.05


def _busy_error(path: Path, exc: Exception) -> WarehouseBusy:
    match = _LOCK_PID.search(str(exc))
    pid = match.group(1) if match else "unknown"
    return WarehouseBusy(
        f"warehouse {path} is busy (held by PID {pid}); retry when the running roi command ends, "
        "or pass --wait SECONDS to wait for it"
    )


DEFAULT_MEMORY_LIMIT = "4GB"
MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def _open(path: Path, read_only: bool, wait: float) -> Connection:
    """duckdb.connect, retrying while another process holds the file, for up to `wait` s."""
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise WarehouseError(
                    f"cannot open warehouse {path}: {str(exc).splitlines()[0]}; "
                    "point --warehouse at a roi DuckDB file"
                ) from exc
            if time.monotonic() >= deadline:
                raise _busy_error(path, exc) from exc
            time.sleep(_POLL_SECONDS)


def connect(
    path: Path,
    read_only: bool = False,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    wait: float = 0.0,
) -> Connection:
    """Open the warehouse file; writers also create it and apply pending migrations.

    `memory_limit` caps DuckDB's memory (e.g. "4GB"); bigger work spills to `<file>.tmp/`.
    `wait` is how long to keep trying while another process holds the file (DuckDB allows one
    writer or many readers at a time).

    Raises:
        WarehouseBusy: another process still holds the file after `wait` seconds.
        WarehouseError: the file is missing (for readers) or not a DuckDB database.
    """
    if read_only and not path.exists():
        raise WarehouseError(
            f"no warehouse at {path}; run `roi load` (or `roi run`) in the project first"
        )
    if not MEMORY_LIMIT.fullmatch(memory_limit):
        raise WarehouseError(f"memory limit {memory_limit!r} is not a size like '4GB' or '512MB'")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only, wait)
    execute(con, "SET TimeZone = 'UTC'")
    # A bounded buffer pool keeps a 100M-line load in bounded memory: committed and
    # optimistically written blocks are evicted. (preserve_insertion_order stays on: turned off,
    # DuckDB inserts twice as fast but holds a whole uncommitted load in memory.)
    execute(con, f"SET memory_limit = '{memory_limit}'")
    if read_only:
        version = schema_version(con)
        if version == 0:
            con.close()
            raise WarehouseError(
                f"{path} is not a roi warehouse (no _migrations table); run `roi load` first"
            )
        if version < LATEST_VERSION:
            con.close()
            raise WarehouseError(
                f"warehouse {path} has schema version {version}, this roi needs "
                f"{LATEST_VERSION}; run `roi load` (or any command that writes) once to upgrade it"
            )
    else:
        try:
            migrate(con)
        except BaseException:
            con.close()
            raise
    _point_views_here(con, path, read_only)
    return con


def _point_views_here(con: Connection, path: Path, read_only: bool) -> None:
    """A warehouse moved with its data folder: point `cost_lines` at the files where they are."""
    from roi.cost_store import data_dir, refresh_view, view_matches

    data = data_dir(path.resolve())
    if view_matches(con, data):
        return
    if read_only:
        refresh_view(con, data, temporary=True)
    else:
        with transaction(con):
            refresh_view(con, data)


@contextmanager
def open_warehouse(
    path: Path,
    read_only: bool = False,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    wait: float = 0.0,
) -> Iterator[Connection]:
    """`connect`, then close the connection when the block ends."""
    con = connect(path, read_only=read_only, memory_limit=memory_limit, wait=wait)
    try:
        yield con
    finally:
        con.close()


def upgrade(path: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT, wait: float = 0.0) -> None:
    """Apply pending migrations to an existing warehouse file (nothing when there is none)."""
    if not path.exists():
        return
    con = _open(path, True, wait)
    try:
        version = schema_version(con)
    finally:
        con.close()
    if 0 < version < LATEST_VERSION:
        connect(path, memory_limit=memory_limit, wait=wait).close()


def _lock_file(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextmanager
def writer_lock(path: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's writer lock: one roi command writes at a time.

    Loads parse, check and stage their rows without the DuckDB file lock (readers keep working)
    and take it only for their final transaction; this advisory lock (`<file>.lock`) keeps a
    second writer from staging the same data meanwhile.

    Raises:
        WarehouseBusy: another roi command holds it after `wait` seconds.
    """
    lock = _lock_file(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + max(wait, 0.0)
    with lock.open("a+") as fh:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    pid = fh.read().strip() or "unknown"
                    raise WarehouseBusy(
                        f"warehouse {path} is busy: another roi command (PID {pid}) is writing "
                        "to it; retry when it ends, or pass --wait SECONDS to wait for it"
                    ) from None
                time.sleep(_POLL_SECONDS)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


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
    exists = fetch_one(
        con,
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = '_migrations'",
    )
    if not exists[0]:
        return 0
    return int(fetch_one(con, "SELECT coalesce(max(version), 0) FROM _migrations")[0])


def migrate(con: Connection) -> list[int]:
    """Apply pending migrations, each in its own transaction; return the versions applied."""
    current = schema_version(con)
    applied = []
    for version, name, sql in MIGRATIONS:
        if version <= current:
            continue
        with transaction(con):
            execute(
                con,
                "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, "
                "name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            )
            if sql == "cost_store":
                from roi.cost_store import move_table_to_files

                move_table_to_files(con)
            else:
                execute(con, sql)
            execute(con, "INSERT INTO _migrations (version, name) VALUES (?, ?)", [version, name])
        applied.append(version)
    return applied


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _explained(sql: str) -> str:
    """The statement an `EXPLAIN [ANALYZE] [(options)] <statement>` explains, as text."""
    tokens = duckdb.tokenize(sql)
    ends = [start for start, _ in tokens[1:]] + [len(sql)]
    words = [
        (start, sql[start:end].strip().lower())
        for (start, kind), end in zip(tokens, ends, strict=True)
        if kind.name != "comment"
    ]
    position = 1  # words[0] is EXPLAIN: extract_statements said so
    if position < len(words) and words[position][1] == "analyze":
        position += 1
    if position < len(words) and words[position][1].startswith("("):
        depth = 0
        while position < len(words):
            depth += words[position][1].count("(") - words[position][1].count(")")
            position += 1
            if depth <= 0:
                break
    return sql[words[position][0] :] if position < len(words) else ""


def check_read_only(con: Connection, sql: str) -> None:
    """Refuse anything but one read query (SELECT, or EXPLAIN [ANALYZE] of a SELECT).

    DuckDB's own parser decides: the text must split into one statement of type SELECT, and that
    statement must serialise as a SELECT tree (`json_serialize_sql`), so a side effect hidden in
    an EXPLAIN (`EXPLAIN ANALYZE COPY ... TO ...`) or a second statement never runs.

    Raises:
        QueryError: several statements, a statement that is not a read query, or text that
            does not parse.
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(
            f'{_first_line(exc)}; check the SQL; `roi query "SHOW TABLES"` lists the tables'
        ) from exc
    if len(statements) != 1:
        raise QueryError(
            f"roi query runs one statement at a time; got {len(statements)}; run them one by one"
        )
    kind = statements[0].type.name
    if kind == "EXPLAIN":
        inner = _explained(statements[0].query)
        inner_kind = duckdb.extract_statements(inner)[0].type.name if inner.strip() else "empty"
        if inner_kind != "SELECT":
            raise QueryError(
                f"roi query only reads the warehouse: EXPLAIN of a {inner_kind} statement is not "
                "allowed (EXPLAIN ANALYZE runs it); EXPLAIN a SELECT"
            )
        sql = inner
    elif kind != "SELECT":
        raise QueryError(
            f"roi query only reads the warehouse: a {kind} statement is not allowed; use SELECT "
            "(or SHOW, DESCRIBE, SUMMARIZE, EXPLAIN), and --format csv > file to export"
        )
    tree = json.loads(str(fetch_one(con, "SELECT json_serialize_sql(?::VARCHAR)", [sql])[0]))
    if tree.get("error", True):
        raise QueryError(
            "roi query only reads the warehouse: the statement is not a plain query; use SELECT "
            "(or SHOW, DESCRIBE, SUMMARIZE, EXPLAIN)"
        )


def sandbox(con: Connection, readable: Sequence[Path]) -> None:
    """Lock a read-only connection to the warehouse alone: no files, no extensions, no settings.

    After this, COPY, EXPORT DATABASE, ATTACH, read_csv/read_blob/glob, INSTALL/LOAD and SET fail
    inside DuckDB itself, whatever the SQL says. Only the files in `readable` (the current
    Parquet files behind `cost_lines`) can be opened; no other path, not even a new file in the
    data folder, can be named.
    """
    execute(con, "SET allowed_paths = ?", [[str(p) for p in readable]])
    for setting in (
        "SET enable_external_access = false",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET allow_community_extensions = false",
        "SET lock_configuration = true",
    ):
        execute(con, setting)


def run_user_query(con: Connection, sql: str, readable: Sequence[Path]) -> pl.DataFrame:
    """Run one read query of a user (`check_read_only`) on a sandboxed connection.

    Raises:
        QueryError: several statements, a statement that is not a query, or any DuckDB error,
            as one line.
    """
    check_read_only(con, sql)
    sandbox(con, readable)
    try:
        return fetch_frame(con, sql)
    except duckdb.Error as exc:
        first = _first_line(exc)
        if "disabled by configuration" in first or "configuration has been locked" in first:
            hint = "roi query sees only the warehouse's tables: no files, extensions or settings"
        elif "read-only" in first or "read only" in first:
            hint = "the warehouse is opened read-only, so only queries run"
        else:
            hint = 'check the SQL; `roi query "SHOW TABLES"` lists the tables'
        raise QueryError(f"{first}; {hint}") from exc


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
