"""Business KPIs from a SQL warehouse → `kpi_values`.

The server is named by `url` (no password; the password in the environment variable
`password_env` names) or by `dsn_env` (`roi.connectors.sql_url`). A `postgresql://` URL runs on
PostgreSQL (or anything speaking its protocol); a `mysql://` or `mariadb://` one on MySQL or
MariaDB (`roi.connectors.sql_mysql`); any other SQLAlchemy URL (Snowflake, BigQuery, Trino,
Redshift, SQL Server, …) through SQLAlchemy (`roi.connectors.sql_alchemy`).

The connector runs the `query` of its TOML on someone else's server, so it holds it to three
rules (`roi.connectors.sql_guard`): the query parses as one SELECT with nothing inside it that
writes or acts outside the query; the role it connects as is checked first (PostgreSQL, MySQL)
and refused when it is a superuser or can write, change roles, or reach server files, programs
or other sessions; and it runs read-only with a statement timeout (`[options] timeout`,
seconds, default 60). The query returns the columns of the `kpi_csv` format (`kpi,
period_start, period_end, model_id, segment, value, unit`, optionally `n, std_dev,
experiment_id`); another column is an error, not silently dropped. Credentials are never
printed or stored: lineage records the server and database without them.

Incremental: a query that binds `:since` (`WHERE period_start >= :since`) reads only recent
periods: `since` is the first day of the month `[options] lookback_months` (default 3) before the
latest period the last load saw, so a month finance re-closes within that window replaces the
earlier value (listed by `roi status` as a restatement). When the query returns exactly what the
last load saw, nothing is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from roi.connectors import register
from roi.connectors.base import Connector
from roi.connectors.kpi_csv import OPTIONAL, finish_kpis
from roi.connectors.sql_alchemy import run_sqlalchemy_query
from roi.connectors.sql_guard import check_one_select, masked_first_line, text_frame
from roi.connectors.sql_mysql import run_mysql_query
from roi.connectors.sql_url import SqlTarget, postgres_where, pyformat, sql_target, uses_since
from roi.errors import ConfigError, SourceError
from roi.loading.parsing import null_if_token, require_columns
from roi.loading.protocol import Batch, Extracted
from roi.progress import Progress
from roi.tables import KPI_VALUES

REQUIRED = ("kpi", "period_start", "period_end", "value")
DEFAULT_TIMEOUT_SECONDS = 60.0
EARLIEST = dt.date(1900, 1, 1)  # `:since` on a first load: every period
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


def run_query(
    dsn: str,
    query: str,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    params: dict[str, object] | None = None,
) -> pl.DataFrame:
    """Run `query` read-only and return its rows as text columns (the parsers type them).

    The query must parse as one SELECT (`check_one_select`) and the role must only be able to
    read (`check_role`). The session is read-only from its start
    (`default_transaction_read_only`) with a `statement_timeout` of `timeout` seconds, and the
    query runs as one prepared statement, so several statements are refused outright.
    """
    import psycopg

    where = postgres_where(dsn)
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
                # The project's own query, one statement; `:since` bound, never formatted in.
                if params:
                    cur.execute(pyformat(query), params, prepare=True)
                else:
                    cur.execute(query, prepare=True)
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
    return text_frame(columns, rows)


@dataclass(frozen=True)
class KpiSqlOptions:
    """`[options]` of a `kpi_sql` connector (the server comes from `url` or `dsn_env`)."""

    query: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS  # seconds; the server cancels a longer query
    lookback_months: int = 3  # with `:since`: months re-read before the latest one loaded


def _run(target: SqlTarget, query: str, timeout: float, params: dict[str, object]) -> pl.DataFrame:
    if target.backend == "postgres":
        return run_query(target.dsn, query, timeout, params)
    if target.backend == "mysql":
        return run_mysql_query(target.dsn, query, timeout, params)
    return run_sqlalchemy_query(target, query, timeout, params)


def since(state: Mapping[str, Any] | None, lookback_months: int) -> dt.date:
    """The first day of the month `lookback_months` before the latest period loaded (or the
    start of time on a first load)."""
    latest = (state or {}).get("latest_period")
    if not isinstance(latest, str):
        return EARLIEST
    day = dt.date.fromisoformat(latest)
    months = day.year * 12 + day.month - 1 - lookback_months
    return dt.date(months // 12, months % 12 + 1, 1)


def _check_columns(frame: pl.DataFrame, source: str) -> None:
    require_columns(
        frame,
        source,
        REQUIRED,
        "the query must return kpi, period_start, period_end, model_id, segment, value, unit",
    )
    unknown = [c for c in frame.columns if c not in (*REQUIRED, *OPTIONAL)]
    if unknown:
        raise SourceError(
            f"{source}: the query returns column {unknown[0]!r}, which is not a KPI column; "
            f"rename it to one of {', '.join((*REQUIRED, *OPTIONAL))} or leave it out of the "
            "SELECT"
        )


def _latest_period(frame: pl.DataFrame) -> str | None:
    latest = frame["period_start"].str.slice(0, 10).str.to_date(strict=False).max()
    return latest.isoformat() if isinstance(latest, dt.date) else None


@register
class KpiSql(Connector):
    """KPIs selected from a SQL warehouse."""

    type_name = "kpi_sql"
    table = KPI_VALUES
    description = (
        "business KPIs from a SQL warehouse (PostgreSQL, MySQL, MariaDB, any SQLAlchemy URL): "
        "`query` + `url` or `dsn_env`"
    )
    needs_location = False  # `url` or `dsn_env`, checked by `sql_target`
    reads_urls = True
    takes_dsn = True
    Options = KpiSqlOptions

    def _query(self) -> str:
        query = self.options.query
        if not isinstance(query, str) or not query.strip():
            raise ConfigError(
                f"{self.config.file}: [options] query is missing; write the SELECT that returns "
                "kpi, period_start, period_end, model_id, segment, value, unit"
            )
        if not self.options.timeout > 0:
            raise ConfigError(
                f"{self.config.file}: [options] timeout must be a positive number of seconds"
            )
        if self.options.lookback_months < 0:
            raise ConfigError(f"{self.config.file}: [options] lookback_months must be 0 or more")
        return query

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Run the query; a result identical to the last load's changes nothing."""
        query = self._query()
        target = sql_target(self.config)
        progress.info(f"{self.config.name}: querying {target.where}")
        params: dict[str, object] = {}
        if uses_since(query):
            params["since"] = since(state, self.options.lookback_months)
        frame = _run(target, query, self.options.timeout, params)
        source = f"{target.where}#{self.config.name}"
        _check_columns(frame, source)
        digest = hashlib.sha256(frame.write_csv().encode("utf-8")).hexdigest()
        cursor: dict[str, Any] = {"result_sha256": digest}
        if params:
            latest = _latest_period(frame) or (state or {}).get("latest_period")
            cursor["latest_period"] = latest
        if state == cursor:
            return Extracted(batches=iter(()), files=[], cursor=cursor)

        def batches() -> Iterator[Batch]:
            rows = frame.with_columns(null_if_token(frame.columns)).with_columns(
                source_file=pl.lit(source),
                source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
            )
            yield finish_kpis(rows)

        return Extracted(batches=batches(), files=[source], cursor=cursor)
