"""The SQL a project sends to someone else's database: one read query, parsed before it runs.

A KPI query runs on a server roi does not own (a finance team's PostgreSQL, later MySQL or a
cloud warehouse). A read-only transaction alone does not make it harmless: `COPY ... TO
PROGRAM`, `lo_export`, `dblink_exec` or `pg_terminate_backend` act on the server inside one. So
three layers hold together:

1. the statement is parsed (sqlglot, in the server's dialect) and must be one query (SELECT,
   UNION, VALUES) with nothing inside it that writes, locks or selects INTO;
2. functions known to act outside the query (files, programs, other sessions, other servers,
   sequences, settings, sleeping) are refused by name;
3. the connector checks the role it connects as (no superuser, no write privilege) before it
   runs anything, and the server enforces a statement timeout.

The deny-list of (2) can never be complete; (1) and (3) are what make it safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from roi.errors import SourceError

# Functions that act outside the query: server files and programs, large objects, other
# sessions and servers, configuration, sequences, advisory locks, notifications, sleeping, and
# functions that run SQL text of their own.
SIDE_EFFECT_FUNCTIONS = frozenset(
    {
        # PostgreSQL
        "lo_import",
        "lo_export",
        "lo_unlink",
        "lo_create",
        "lo_creat",
        "lo_put",
        "lo_from_bytea",
        "lo_truncate",
        "lowrite",
        "dblink",
        "dblink_exec",
        "dblink_connect",
        "dblink_connect_u",
        "dblink_send_query",
        "dblink_open",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_promote",
        "pg_switch_wal",
        "pg_create_restore_point",
        "pg_backup_start",
        "pg_backup_stop",
        "pg_start_backup",
        "pg_stop_backup",
        "pg_sleep",
        "pg_sleep_for",
        "pg_sleep_until",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "pg_file_write",
        "pg_file_rename",
        "pg_file_unlink",
        "pg_logdir_ls",
        "pg_notify",
        "pg_advisory_lock",
        "pg_advisory_xact_lock",
        "pg_try_advisory_lock",
        "pg_try_advisory_xact_lock",
        "pg_advisory_lock_shared",
        "pg_stat_reset",
        "pg_stat_reset_shared",
        "pg_create_logical_replication_slot",
        "pg_create_physical_replication_slot",
        "pg_drop_replication_slot",
        "pg_logical_emit_message",
        "pg_replication_origin_create",
        "set_config",
        "nextval",
        "setval",
        "query_to_xml",
        "query_to_xml_and_xmlschema",
        "query_to_xmlschema",
        "cursor_to_xml",
        # MySQL / MariaDB
        "sleep",
        "benchmark",
        "load_file",
        "get_lock",
        "release_lock",
        "release_all_locks",
        "master_pos_wait",
        "source_pos_wait",
        "sys_exec",
        "sys_eval",
    }
)
# Nodes that write, lock, or create something, wherever they appear in the tree.
_WRITING_NODES: tuple[type[exp.Expression], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Into,
    exp.Lock,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Copy,
    exp.Command,
    exp.Set,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.TruncateTable,
)
_HINT = "write one SELECT that only reads (it runs read-only, one statement)"


def function_name(node: exp.Func) -> str:
    """The name a function call is written with, lower-cased, without its schema."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return str(node.sql_name()).lower()


def check_one_select(query: str, dialect: str | None, where: str) -> None:
    """Refuse `query` unless it parses as one read query with no side effect inside.

    Raises:
        SourceError: several statements, a statement that is not a query, a writing, locking
            or INTO clause anywhere in it, or a call of a function that acts outside the query;
            the message names `where` (the server, never its credentials).
    """
    try:
        statements = [s for s in sqlglot.parse(query, read=dialect) if s is not None]
    except ParseError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unparsable"
        raise SourceError(
            f"{where}: the KPI query does not parse as {dialect or 'standard'} SQL ({first}); "
            f"{_HINT}"
        ) from None
    if len(statements) != 1:
        raise SourceError(f"{where}: the KPI query holds {len(statements)} statements; {_HINT}")
    [statement] = statements
    if not isinstance(statement, exp.Query):
        kind = statement.key.upper()
        raise SourceError(f"{where}: the KPI query is a {kind} statement, not a SELECT; {_HINT}")
    for node in statement.walk():
        if isinstance(node, _WRITING_NODES):
            clause = node.key.upper()
            raise SourceError(
                f"{where}: the KPI query contains {clause}, which writes, locks or runs another "
                f"statement; {_HINT}"
            )
        if isinstance(node, exp.Func) and function_name(node) in SIDE_EFFECT_FUNCTIONS:
            raise SourceError(
                f"{where}: the KPI query calls {function_name(node)}(), which acts outside the "
                f"query (files, programs, other sessions or servers, settings, time); {_HINT}"
            )


def masked_first_line(exc: Exception, secrets: list[str]) -> str:
    """An error's first line with every secret (a DSN, its user, its password) masked."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return line


def text_frame(columns: list[str], rows: Iterable[Sequence[object]]) -> pl.DataFrame:
    """A query's rows as text columns (the KPI parsers type them), NULL as null."""
    return pl.DataFrame(
        [[None if v is None else str(v) for v in row] for row in rows],
        schema=dict.fromkeys(columns, pl.String),
        orient="row",
    )
