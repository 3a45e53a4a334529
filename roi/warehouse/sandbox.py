"""`roi query`'s sandbox: one read query of a user, on a connection that sees only the warehouse."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from roi.errors import QueryError
from roi.warehouse.sql import Connection, execute, fetch_frame, fetch_one


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
