"""Data of connectors the project no longer defines: found, warned about, and forgotten.

Deleting `connectors/<name>.toml` stops future loads, but what the connector loaded stays in
the warehouse and keeps counting. `undefined_connectors` names those connectors (for `roi
status` and `roi attribute`); `forget_connector` (`roi forget NAME`) removes their data in one
transaction: rows of every loaded table, billing files (superseded, so the next attribution
recomputes their months), rejects and the cursor; the `_loads` records stay, marked forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from roi import warehouse
from roi.errors import ConfigError
from roi.tables import LOADED_TABLES
from roi.warehouse import Connection
from roi.warehouse.cost_store import data_dir, refresh_view

# `roi ingest` names its loads `<type>:<path>`: data the user loaded by hand, never from a TOML.
INGEST_MARK = ":"


@dataclass(frozen=True)
class Forgotten:
    """What `roi forget` removed: rows per table and billing lines."""

    connector: str
    loads: int
    rows: dict[str, int]
    billing_lines: int


def undefined_connectors(con: Connection, defined: tuple[str, ...]) -> list[str]:
    """One warning per connector whose data the warehouse holds but the project does not define."""
    rows = warehouse.fetch_all(
        con,
        """SELECT l.connector, l.target_table, sum(l.rows_loaded)
           FROM _loads l JOIN _state s ON s.connector = l.connector
           WHERE l.status = 'completed' GROUP BY ALL ORDER BY ALL""",
    )
    return [
        f"connector {name} is not defined in connectors/ any more, but what it loaded into "
        f"{table} still counts ({rows:,} row(s) loaded); run `roi forget {name}` to remove it, "
        "or restore its TOML"
        for name, table, rows in rows
        if name not in defined and INGEST_MARK not in name
    ]


def forget_connector(con: Connection, name: str) -> Forgotten:
    """Remove everything connector `name` loaded, inside the caller's transaction.

    Raises:
        ConfigError: the warehouse holds no load of that connector.
    """
    loads = [
        str(r[0])
        for r in warehouse.fetch_all(
            con, "SELECT load_id FROM _loads WHERE connector = ? AND status = 'completed'", [name]
        )
    ]
    if not loads:
        raise ConfigError(
            f"the warehouse holds no data of connector {name!r}; `roi status` lists the loaded "
            "connectors"
        )
    rows: dict[str, int] = {}
    for table in LOADED_TABLES:
        if table.replace_by:
            continue  # billing lines live in files, below
        removed = warehouse.fetch_all(
            con,
            f"DELETE FROM {table.name} WHERE _load_id IN (SELECT unnest(?)) RETURNING 1",
            [loads],
        )
        rows[table.name] = len(removed)
    superseded = warehouse.fetch_all(
        con,
        """UPDATE _cost_files SET superseded_by = 'forgotten', superseded_at = ?
           WHERE load_id IN (SELECT unnest(?)) AND superseded_by IS NULL RETURNING lines""",
        [datetime.now(UTC), loads],
    )
    warehouse.execute(con, "DELETE FROM _rejects WHERE load_id IN (SELECT unnest(?))", [loads])
    warehouse.execute(con, "DELETE FROM _state WHERE connector = ?", [name])
    warehouse.execute(
        con, "UPDATE _loads SET status = 'forgotten' WHERE load_id IN (SELECT unnest(?))", [loads]
    )
    refresh_view(con, data_dir(warehouse.database_file(con).resolve()))
    return Forgotten(name, len(loads), rows, sum(int(r[0]) for r in superseded))
