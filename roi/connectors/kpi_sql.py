"""Business KPIs from a SQL warehouse (PostgreSQL, MySQL or MariaDB) → `kpi_values`.

A `postgresql://` DSN runs on PostgreSQL (or anything speaking its protocol); a `mysql://` or
`mariadb://` one on MySQL or MariaDB (`roi.connectors.sql_mysql`), under the same rules.

The connector runs the `query` of its TOML on someone else's server, so it holds it to three
rules (`roi.connectors.sql_guard`): the query parses as one SELECT with nothing inside it that
writes or acts outside the query; the role it connects as is checked first and refused when it
is a superuser or can write, change roles, or reach server files, programs or other sessions;
and it runs read-only with a statement timeout (`[options] timeout`, seconds, default 60).
The query returns the
columns of the `kpi_csv` format (`kpi, period_start, period_end, model_id, segment, value,
unit`, optionally `n, std_dev, experiment_id`). The connection string comes only from the
environment variable the TOML names (`dsn_env = "KPI_WAREHOUSE_DSN"`); it is never printed or
stored: lineage records the server and database without credentials. When the query returns
exactly what the last load saw, nothing is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from roi.connectors import register
from roi.connectors.base import Connector
from roi.connectors.kpi_csv import finish_kpis
from roi.connectors.sql_guard import check_one_select, masked_first_line
from roi.connectors.sql_mysql import is_mysql, run_mysql_query
from roi.connectors.sql_mysql import redacted as redacted_mysql
from roi.errors import ConfigError, SourceError
from roi.loading.parsing import null_if_token, require_columns
from roi.loading.protocol import Batch, Extracted
from roi.progress import Progress
from roi.tables import KPI_VALUES

REQUIRED = ("kpi", "period_start", "period_end", "value")
DEFAULT_TIMEOUT_SECONDS = 60.0
# Predefined roles that reach past the database: server files, programs, other sessions.
_POWERFUL_ROLES = (
    "pg_execute_server_program",
    "pg_write_server_files",
    "pg_read_server_files",
    "pg_signal_backend",
    "pg_write_all_data",
)
_ROLE_POWERS = f"""
SELECT concat_ws(', ',
    CASE WHEN r.rolsuper THEN 'is a superuser' END,
    CASE WHEN r.rolcreaterole THEN 'can create roles' END,
    CASE WHEN r.rolreplication THEN 'can replicate' END,
    CASE WHEN r.rolbypassrls THEN 'bypasses row security' END,
    (SELECT 'is a member of ' || string_agg(p.rolname, ', ' ORDER BY p.rolname)
     FROM pg_roles p
     WHERE p.rolname IN ({", ".join(f"'{name}'" for name in _POWERFUL_ROLES)})
       AND pg_has_role(r.oid, p.oid, 'USAGE')),
    (SELECT 'can write table ' || min(quote_ident(n.nspname) || '.' || quote_ident(c.relname))
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'
       AND has_table_privilege(r.oid, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')),
    (SELECT 'can create objects in schema ' || min(quote_ident(n.nspname))
     FROM pg_namespace n
     WHERE n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'
       AND has_schema_privilege(r.oid, n.oid, 'CREATE')),
    CASE WHEN has_database_privilege(r.oid, current_database(), 'CREATE')
         THEN 'can create schemas in the database' END)
FROM pg_roles r WHERE r.rolname = current_user
"""


def _redacted(dsn: str) -> str:
    """`postgresql://user:secret@host:5432/db?x=y` → `postgresql://host:5432/db` (no secrets)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(dsn)
    except Exception:  # an unparsable DSN: say nothing about it
        return "postgresql://<unparsable dsn>"
    host = info.get("host") or "localhost"
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{host}{port}/{info.get('dbname') or ''}"


def _secrets(dsn: str) -> list[str]:
    """The parts of a DSN that must never appear in a message."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(dsn)
    except Exception:
        return [dsn]
    return [dsn, *(str(info[k]) for k in ("password", "user") if info.get(k))]


def _first_line(exc: Exception, dsn: str) -> str:
    """An error's first line with every secret of the DSN masked."""
    return masked_first_line(exc, _secrets(dsn))


def _read_only_role_sql(database: str) -> str:
    return (
        "CREATE ROLE roi_reader LOGIN PASSWORD '<password>'; "
        f"GRANT CONNECT ON DATABASE {database or '<database>'} TO roi_reader; "
        "GRANT USAGE ON SCHEMA <schema> TO roi_reader; "
        "GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO roi_reader"
    )


def check_role(cursor: Any, where: str) -> None:
    """Refuse to run anything as a role that could change the server or reach past it.

    Raises:
        SourceError: the role is a superuser, can create roles, replicate or bypass row
            security, holds a predefined role for server files, programs or other sessions, or
            can write a table or create objects; the message gives the SQL of a read-only role.
    """
    cursor.execute(_ROLE_POWERS)
    row = cursor.fetchone()
    powers = str(row[0]) if row and row[0] else ""
    if powers:
        database = where.rsplit("/", 1)[-1]
        raise SourceError(
            f"{where}: the DSN's role {powers}, so a KPI query could change the server; connect "
            f"as a role that can only read: {_read_only_role_sql(database)}; then put that "
            "role's DSN in the environment variable named by dsn_env"
        )


def run_query(dsn: str, query: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> pl.DataFrame:
    """Run `query` read-only and return its rows as text columns (the parsers type them).

    The query must parse as one SELECT (`check_one_select`) and the role must only be able to
    read (`check_role`). The session is read-only from its start
    (`default_transaction_read_only`) with a `statement_timeout` of `timeout` seconds, and the
    query runs as one prepared statement, so several statements are refused outright.
    """
    import psycopg

    where = _redacted(dsn)
    check_one_select(query, "postgres", where)
    settings = f"-c default_transaction_read_only=on -c statement_timeout={round(timeout * 1000)}"
    try:
        conn = psycopg.connect(dsn, connect_timeout=10, options=settings)
    except psycopg.ProgrammingError:
        # The DSN did not parse; its text may hold a password, so none of it is shown.
        raise SourceError(
            "the DSN in the environment variable named by dsn_env is malformed; write "
            "postgresql://user@host:5432/database (password in PGPASSWORD or ~/.pgpass)"
        ) from None
    except psycopg.OperationalError as exc:
        raise SourceError(
            f"cannot connect to {where} ({_first_line(exc, dsn)}); check the server and the "
            "DSN in the environment variable named by dsn_env"
        ) from None
    try:
        with conn:
            conn.read_only = True
            with conn.cursor() as cur:
                check_role(cur, where)
                cur.execute(query, prepare=True)  # the project's own query, one statement
                if cur.description is None:
                    raise SourceError(f"{where}: the query returned no result set; use a SELECT")
                columns = [d.name.strip().lower() for d in cur.description]
                rows = cur.fetchall()
    except psycopg.errors.QueryCanceled:
        raise SourceError(
            f"{where}: the KPI query ran longer than its timeout of {timeout:g} s; make it "
            "cheaper (filter by period) or raise [options] timeout"
        ) from None
    except psycopg.OperationalError as exc:
        raise SourceError(
            f"cannot connect to {where} ({_first_line(exc, dsn)}); check the server and the "
            "environment variable named by dsn_env"
        ) from None
    except psycopg.Error as exc:
        if "multiple commands" in str(exc):
            raise SourceError(
                f"{where}: the KPI query holds several statements; write one SELECT (it runs "
                "read-only, one statement)"
            ) from None
        raise SourceError(
            f"{where}: the KPI query failed: {_first_line(exc, dsn)}; fix `query` in the TOML"
        ) from None
    return pl.DataFrame(
        [[None if v is None else str(v) for v in row] for row in rows],
        schema=dict.fromkeys(columns, pl.String),
        orient="row",
    )


@dataclass(frozen=True)
class KpiSqlOptions:
    """`[options]` of a `kpi_sql` connector (the DSN comes from `dsn_env`, never from here)."""

    query: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS  # seconds; the server cancels a longer query


@register
class KpiSql(Connector):
    """KPIs selected from a SQL warehouse."""

    type_name = "kpi_sql"
    table = KPI_VALUES
    description = (
        "business KPIs from a SQL warehouse (PostgreSQL, MySQL, MariaDB): `query` + `dsn_env`"
    )
    needs_location = False
    Options = KpiSqlOptions

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Run the query; a result identical to the last load's changes nothing."""
        query = self.options.query
        if not isinstance(query, str) or not query.strip():
            raise ConfigError(
                f"{self.config.file}: [options] query is missing; write the SELECT that returns "
                "kpi, period_start, period_end, model_id, segment, value, unit"
            )
        dsn = self.config.secret("dsn")
        mysql = is_mysql(dsn)
        where = redacted_mysql(dsn) if mysql else _redacted(dsn)
        progress.info(f"{self.config.name}: querying {where}")
        if not self.options.timeout > 0:
            raise ConfigError(
                f"{self.config.file}: [options] timeout must be a positive number of seconds"
            )
        run = run_mysql_query if mysql else run_query
        frame = run(dsn, query, self.options.timeout)
        digest = hashlib.sha256(frame.write_csv().encode("utf-8")).hexdigest()
        cursor = {"result_sha256": digest}
        if state == cursor:
            return Extracted(batches=iter(()), files=[], cursor=cursor)
        source = f"{where}#{self.config.name}"
        require_columns(
            frame,
            source,
            REQUIRED,
            "the query must return kpi, period_start, period_end, model_id, segment, value, unit",
        )

        def batches() -> Iterator[Batch]:
            rows = frame.with_columns(null_if_token(frame.columns)).with_columns(
                source_file=pl.lit(source),
                source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
            )
            yield finish_kpis(rows)

        return Extracted(batches=batches(), files=[source], cursor=cursor)
