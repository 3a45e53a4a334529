"""`kpi_sql` on MySQL and MariaDB: the same three rules as on PostgreSQL (`sql_guard`).

The query must parse as one MySQL SELECT with nothing that writes, locks, selects INTO
(`INTO OUTFILE`, `INTO DUMPFILE`) or calls a function that acts outside it (`SLEEP`,
`BENCHMARK`, `LOAD_FILE`, `GET_LOCK`, …). The account it connects as is checked first: any
privilege beyond reading (`SELECT`, `SHOW VIEW`, `USAGE`) on any object, or the grant option,
is refused with the SQL of a read-only account. The session runs the query in a read-only
transaction under a statement timeout (`max_statement_time` on MariaDB, `MAX_EXECUTION_TIME`
on MySQL), as one statement (the client does not allow several). The DSN
(`mysql://user:password@host:3306/database`, or `mariadb://…`) comes only from the environment;
messages show `mysql://host:port/database`, never the user or password.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import polars as pl

from roi.connectors.sql_guard import check_one_select, masked_first_line, text_frame
from roi.connectors.sql_url import pyformat
from roi.errors import SourceError

# Privileges a KPI account may hold: it reads, nothing else.
READING = frozenset({"SELECT", "SHOW VIEW", "USAGE"})
_GRANT = re.compile(r"^GRANT (?P<privileges>.+?) ON (?P<on>\S+) TO ", re.IGNORECASE)


def redacted(dsn: str) -> str:
    """`mysql://user:secret@host:3306/db` → `mysql://host:3306/db` (no credentials)."""
    try:
        parts = urlsplit(dsn)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "mysql://<unparsable dsn>"
    return f"mysql://{parts.hostname or 'localhost'}{port}{parts.path}"


def _connect_args(dsn: str) -> dict[str, Any]:
    parts = urlsplit(dsn)
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 3306,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": parts.path.lstrip("/") or None,
    }


def _secrets(dsn: str) -> list[str]:
    try:
        args = _connect_args(dsn)
    except ValueError:
        return [dsn]
    return [dsn, *(str(args[k]) for k in ("password", "user") if args[k])]


def _first_line(exc: Exception, dsn: str) -> str:
    return masked_first_line(exc, _secrets(dsn))


def powers(grants: list[str]) -> list[str]:
    """What the account's grants allow beyond reading, one phrase each."""
    found = []
    for grant in grants:
        if "WITH GRANT OPTION" in grant.upper():
            found.append("can grant its privileges to others")
        if grant.upper().startswith(("GRANT PROXY", "GRANT ROLE")):
            found.append("can act as another account")
            continue
        match = _GRANT.match(grant)
        if not match:
            continue
        privileges = {p.strip().upper() for p in match["privileges"].split(",")}
        privileges = {re.sub(r"\s*\(.*\)$", "", p) for p in privileges}
        extra = sorted(privileges - READING)
        if extra:
            found.append(f"holds {', '.join(extra)} on {match['on']}")
    return found


def _read_only_account_sql(database: str) -> str:
    return (
        "CREATE USER 'roi_reader'@'%' IDENTIFIED BY '<password>'; "
        f"GRANT SELECT ON `{database or '<database>'}`.* TO 'roi_reader'@'%'"
    )


def check_account(cursor: Any, where: str, database: str) -> None:
    """Refuse to run anything as an account that can do more than read.

    Raises:
        SourceError: the account holds a privilege other than SELECT, SHOW VIEW or USAGE, or
            the grant option; the message gives the SQL of a read-only account.
    """
    cursor.execute("SHOW GRANTS FOR CURRENT_USER()")
    found = powers([str(row[0]) for row in cursor.fetchall()])
    if found:
        raise SourceError(
            f"{where}: the DSN's account {'; '.join(found)}, so a KPI query could change the "
            f"server; connect as an account that can only read: "
            f"{_read_only_account_sql(database)}; then put its DSN in the environment "
            "variable named by dsn_env"
        )


def run_mysql_query(
    dsn: str, query: str, timeout: float, params: dict[str, object] | None = None
) -> pl.DataFrame:
    """Run `query` on MySQL or MariaDB, read-only, and return its rows as text columns."""
    import pymysql

    where = redacted(dsn)
    check_one_select(query, "mysql", where)
    try:
        args = _connect_args(dsn)
    except ValueError:
        raise SourceError(
            "the DSN in the environment variable named by dsn_env is malformed; write "
            "mysql://user:password@host:3306/database"
        ) from None
    try:
        conn = pymysql.connect(**args, connect_timeout=10, charset="utf8mb4")
    except pymysql.MySQLError as exc:
        raise SourceError(
            f"cannot connect to {where} ({_first_line(exc, dsn)}); check the server and the "
            "DSN in the environment variable named by dsn_env"
        ) from None
    try:
        with conn.cursor() as cur:
            check_account(cur, where, args["database"] or "")
            cur.execute("SELECT VERSION()")
            version = str((cur.fetchone() or [""])[0])
            if "mariadb" in version.lower():
                cur.execute(f"SET SESSION max_statement_time = {float(timeout):g}")
            else:
                cur.execute(f"SET SESSION MAX_EXECUTION_TIME = {round(timeout * 1000)}")
            cur.execute("START TRANSACTION READ ONLY")
            # The project's own query, one statement; `:since` bound, never formatted in.
            cur.execute(pyformat(query), params) if params else cur.execute(query)
            if cur.description is None:
                raise SourceError(f"{where}: the query returned no result set; use a SELECT")
            columns = [str(d[0]).strip().lower() for d in cur.description]
            rows = cur.fetchall()
            cur.execute("ROLLBACK")
    except pymysql.MySQLError as exc:
        code = exc.args[0] if exc.args else None
        if code in (1969, 3024):  # MariaDB max_statement_time / MySQL MAX_EXECUTION_TIME
            raise SourceError(
                f"{where}: the KPI query ran longer than its timeout of {timeout:g} s; make it "
                "cheaper (filter by period) or raise [options] timeout"
            ) from None
        raise SourceError(
            f"{where}: the KPI query failed: {_first_line(exc, dsn)}; fix `query` in the TOML"
        ) from None
    finally:
        conn.close()
    return text_frame(columns, rows)
