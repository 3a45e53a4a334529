"""Opening the warehouse: DuckDB's file lock, roi's writer lock, migrations on open.

One file (default `<project>/roi.duckdb`). Writers hold DuckDB's file lock only for their final
transaction, so a second process gets `WarehouseBusy` instead of a stack trace; readers open
read-only. Schema changes are numbered migrations (`roi.warehouse.migrations`) recorded in
`_migrations`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from roi.errors import WarehouseBusy, WarehouseError
from roi.vocabulary import MEMORY_LIMIT
from roi.warehouse.cost_store import data_dir, refresh_view, view_matches
from roi.warehouse.migrations import LATEST_VERSION, MIGRATIONS, Step
from roi.warehouse.sql import Connection, execute, schema_version, transaction

_LOCK_PID = re.compile(r"\(PID (\d+)\)")
_POLL_SECONDS = 0.05


def _busy_error(path: Path, exc: Exception) -> WarehouseBusy:
    match = _LOCK_PID.search(str(exc))
    pid = match.group(1) if match else "unknown"
    return WarehouseBusy(
        f"warehouse {path} is busy (held by PID {pid}); retry when the running roi command ends, "
        "or pass --wait SECONDS to wait for it"
    )


DEFAULT_MEMORY_LIMIT = "4GB"


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


# A process that makes more than one warehouse (a test session makes hundreds) copies an
# empty one it migrated once: 1 ms instead of 60 ms. Keyed by the migrations it was made from.
_EMPTY: dict[tuple[int, int], bytes] = {}
_made = 0


def _copy_empty(path: Path) -> None:
    """Make the new warehouse `path` as a copy of this process's empty one, from the second
    warehouse the process makes on (the first is migrated as usual)."""
    global _made
    _made += 1
    if _made == 1:
        return
    key = (id(MIGRATIONS), len(MIGRATIONS))
    staged = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        if key not in _EMPTY:
            _EMPTY[key] = _empty_image()
        staged.write_bytes(_EMPTY[key])
        os.link(staged, path)  # only where there is no file: one made meanwhile is kept
    except OSError:  # made meanwhile, no hard links, a folder not writable: DuckDB as usual
        pass
    finally:
        with contextlib.suppress(OSError):
            staged.unlink(missing_ok=True)


def _empty_image() -> bytes:
    """The bytes of a new, migrated warehouse file with no rows."""
    with tempfile.TemporaryDirectory() as scratch:
        empty = Path(scratch) / "empty.duckdb"
        con = duckdb.connect(str(empty))
        try:
            migrate(con)
        finally:
            con.close()
        return empty.read_bytes()


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
        if not path.exists():
            _copy_empty(path)
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


def migrate(con: Connection) -> list[int]:
    """Apply pending migrations, each in its own transaction; return the versions applied.

    A new warehouse gets all of them in one transaction: it is made whole or not at all, and
    one commit instead of one per migration makes it in two thirds of the time (tests make
    hundreds).
    """
    current = schema_version(con)
    pending = [m for m in MIGRATIONS if m[0] > current]
    steps = [pending] if current == 0 else [[migration] for migration in pending]
    for step in steps:
        with transaction(con):
            _apply(con, step)
    return [version for version, _, _ in pending]


def _apply(con: Connection, migrations: list[tuple[int, str, Step]]) -> None:
    execute(
        con,
        "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, "
        "name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    for version, name, sql in migrations:
        if callable(sql):
            sql(con)
        else:
            execute(con, sql)
        execute(con, "INSERT INTO _migrations (version, name) VALUES (?, ?)", [version, name])
