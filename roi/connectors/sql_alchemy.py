"""`kpi_sql` on any database with a SQLAlchemy dialect: Snowflake, BigQuery, Trino/Athena,
Redshift, SQL Server, Databricks, SQLite, …

The same rules as on PostgreSQL and MySQL where the server lets a client enforce them: the query
must parse as one SELECT in the server's SQL dialect (`sql_guard.check_one_select`), it runs in
a transaction that is rolled back, bound parameters only (`:since`), and each server's own
read-only and statement-timeout settings are set first where it has them (`SESSION_SETUP`).
What roi cannot check on these servers is the account: connect as a role that can only read
(the README shows the grants for Snowflake, BigQuery and Trino).

SQLAlchemy itself is a dependency of roi; a dialect's package is the user's to install
(`pip install snowflake-sqlalchemy`, `sqlalchemy-bigquery`, `trino`, …); a missing one is an
`Error:` naming it.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from roi.connectors.sql_guard import check_one_select, masked_first_line, text_frame
from roi.connectors.sql_url import SqlTarget
from roi.errors import SourceError

# Statements run before the query, per SQLAlchemy dialect: read-only where the server has it,
# a statement timeout in seconds ({seconds}) or milliseconds ({ms}).
SESSION_SETUP: dict[str, tuple[str, ...]] = {
    "sqlite": ("PRAGMA query_only = ON",),
    "snowflake": ("ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = {seconds}",),
    "trino": ("SET SESSION query_max_execution_time = '{seconds}s'",),
    "presto": ("SET SESSION query_max_execution_time = '{seconds}s'",),
    "redshift": (
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        "SET statement_timeout TO {ms}",
    ),
}
# The package that provides a dialect, for the error when it is missing.
DIALECT_PACKAGES = {
    "snowflake": "snowflake-sqlalchemy",
    "bigquery": "sqlalchemy-bigquery",
    "trino": "trino",
    "awsathena": "pyathena",
    "redshift": "sqlalchemy-redshift redshift_connector",
    "mssql": "pyodbc (or pymssql)",
    "databricks": "databricks-sqlalchemy",
    "duckdb": "duckdb-engine",
    "oracle": "oracledb",
    "clickhouse": "clickhouse-sqlalchemy",
}


def _engine(target: SqlTarget) -> Any:
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError
    from sqlalchemy.pool import NullPool

    try:
        return sa.create_engine(target.dsn, poolclass=NullPool)
    except NoSuchModuleError:
        package = DIALECT_PACKAGES.get(target.dialect_name, f"the {target.dialect_name} dialect")
        raise SourceError(
            f"{target.where}: SQLAlchemy has no {target.dialect_name} dialect installed; "
            f"pip install {package}"
        ) from None
    except (ArgumentError, ValueError):
        raise SourceError(
            f"{target.where}: the URL does not parse as a SQLAlchemy URL; write "
            "dialect+driver://user@host/database (see the SQLAlchemy dialect's documentation)"
        ) from None
    except ImportError as exc:
        raise SourceError(
            f"{target.where}: the {target.dialect_name} driver is not installed ({exc.name}); "
            f"pip install {DIALECT_PACKAGES.get(target.dialect_name, exc.name or 'it')}"
        ) from None


def run_sqlalchemy_query(
    target: SqlTarget, query: str, timeout: float, params: dict[str, object]
) -> pl.DataFrame:
    """Run `query` on a SQLAlchemy URL and return its rows as text columns (parsers type them)."""
    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

    where = target.where
    check_one_select(query, target.sqlglot_dialect, where)
    engine = _engine(target)
    secrets = [target.dsn, *(p for p in (engine.url.password, engine.url.username) if p)]
    setup = [
        s.format(seconds=max(1, round(timeout)), ms=round(timeout * 1000))
        for s in SESSION_SETUP.get(target.dialect_name, ())
    ]
    try:
        with engine.connect() as conn:
            for statement in setup:
                conn.exec_driver_sql(statement)
            result = conn.execute(sa.text(query), params)
            if not result.returns_rows:
                raise SourceError(f"{where}: the query returned no result set; use a SELECT")
            names = result.keys()  # a result's column names (not a dict)
            columns = [str(name).strip().lower() for name in names]
            rows = result.fetchall()
            conn.rollback()
    except OperationalError as exc:
        raise SourceError(
            f"cannot connect to {where} or run the query there "
            f"({masked_first_line(exc.orig or exc, secrets)}); check the server, the URL and "
            "the password's environment variable"
        ) from None
    except (DBAPIError, SQLAlchemyError) as exc:
        raise SourceError(
            f"{where}: the KPI query failed: {masked_first_line(exc, secrets)}; fix `query` in "
            "the TOML"
        ) from None
    finally:
        engine.dispose()
    return text_frame(columns, rows)
