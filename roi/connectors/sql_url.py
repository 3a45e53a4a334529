"""Where a SQL connector reads, and how its query binds `:since`.

A `kpi_sql` connector names its server in one of two ways:

- `url = "mysql://roi_reader@db.internal:3306/finance"` in its TOML, with the password (if the
  server wants one) in the environment variable `password_env` names; a URL that holds a
  password is refused when the project is read (`roi.config.project`);
- `dsn_env = "KPI_WAREHOUSE_DSN"`: the whole connection string, credentials included, in the
  environment.

PostgreSQL and MySQL/MariaDB URLs run on roi's own clients (psycopg, PyMySQL), which check the
account before the query runs. Any other URL is a SQLAlchemy URL (`snowflake://`,
`bigquery://`, `trino://`, `redshift+redshift_connector://`, `mssql+pyodbc://`, `sqlite:///`)
run through `roi.connectors.sql_alchemy` with the dialect's package installed by the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

from roi.config.project import ConnectorConfig, redact_url
from roi.errors import ConfigError

Backend = Literal["postgres", "mysql", "sqlalchemy"]

# SQLAlchemy dialect name → the sqlglot dialect the query is parsed in (None: generic SQL).
SQLGLOT_DIALECTS = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "trino": "trino",
    "presto": "presto",
    "awsathena": "athena",
    "redshift": "redshift",
    "mssql": "tsql",
    "databricks": "databricks",
    "duckdb": "duckdb",
    "oracle": "oracle",
    "clickhouse": "clickhouse",
}
# `:since` as a bind parameter, not part of a `::type` cast or of a longer name.
_SINCE = re.compile(r"(?<![:\w]):since\b(?!:)")


@dataclass(frozen=True)
class SqlTarget:
    """A server to query: its connection string (a secret), backend and printable name."""

    dsn: str
    backend: Backend
    dialect_name: str  # SQLAlchemy's name: postgresql, mysql, snowflake, …
    where: str  # the URL without credentials, for messages and lineage

    @property
    def sqlglot_dialect(self) -> str | None:
        """The dialect the query is parsed in before it is sent."""
        return SQLGLOT_DIALECTS.get(self.dialect_name)


def dialect_name(url: str) -> str:
    """`snowflake://…` → `snowflake`; `mssql+pyodbc://…` → `mssql`; `postgres://` → `postgresql`."""
    scheme = urlsplit(url).scheme.lower()
    name = scheme.split("+", 1)[0]
    return {"postgres": "postgresql", "mariadb": "mysql"}.get(name, name)


def _backend(name: str) -> Backend:
    if name == "postgresql":
        return "postgres"
    if name == "mysql":
        return "mysql"
    return "sqlalchemy"


def with_password(url: str, password: str) -> str:
    """`url` with `password` put in its authority (the URL in the TOML never holds one)."""
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    credentials = f"{user}:{quote(password, safe='')}@" if user else f":{quote(password)}@"
    return urlunsplit((parts.scheme, credentials + host + port, parts.path, parts.query, ""))


def native_dsn(url: str, backend: Backend) -> str:
    """A URL as roi's own clients take it: `postgresql+psycopg://` → `postgresql://`."""
    parts = urlsplit(url)
    scheme = {"postgres": "postgresql", "mysql": "mysql"}.get(backend, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def postgres_where(dsn: str) -> str:
    """`postgresql://user:secret@host:5432/db?x=y` (or `host=… dbname=…`) → `postgresql://host:5432/db`."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(dsn)
    except Exception:  # an unparsable DSN: say nothing about it
        return "postgresql://<unparsable dsn>"
    host = info.get("host") or "localhost"
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{host}{port}/{info.get('dbname') or ''}"


def sql_target(config: ConnectorConfig) -> SqlTarget:
    """The server a SQL connector reads: `url` (+ `password_env`) or `dsn_env`.

    Raises:
        ConfigError: neither or both are given, or a named environment variable is not set.
    """
    has_dsn = "dsn" in config.secret_env
    if config.url is None and not has_dsn:
        raise ConfigError(
            f'{config.file}: name the server: url = "postgresql://reader@host:5432/db" (any '
            'SQLAlchemy URL, no password in it) with password_env = "VAR", or dsn_env = "VAR" '
            "naming an environment variable that holds the whole connection string"
        )
    if config.url is not None and has_dsn:
        raise ConfigError(
            f"{config.file}: give either url (with password_env) or dsn_env, not both"
        )
    url = config.url if config.url is not None else config.secret("dsn")
    if "://" not in url:  # a libpq `key=value` connection string
        return SqlTarget(url, "postgres", "postgresql", postgres_where(url))
    name = dialect_name(url)
    backend = _backend(name)
    if config.url is not None and "password" in config.secret_env:
        url = with_password(url, config.secret("password"))
    dsn = native_dsn(url, backend) if backend != "sqlalchemy" else url
    return SqlTarget(dsn=dsn, backend=backend, dialect_name=name, where=_where(url, backend))


def _where(url: str, backend: Backend) -> str:
    if backend == "postgres":
        return postgres_where(native_dsn(url, backend))
    try:
        shown = redact_url(url)
    except ValueError:
        return f"{urlsplit(url).scheme or 'sql'}://<unparsable url>"
    return native_dsn(shown, backend) if backend != "sqlalchemy" else shown


def uses_since(query: str) -> bool:
    """Whether the query reads incrementally (binds `:since`)."""
    return _SINCE.search(query) is not None


def pyformat(query: str) -> str:
    """The query in the `%(name)s` style of psycopg and PyMySQL: `:since` bound, `%` doubled."""
    return _SINCE.sub("%(since)s", query.replace("%", "%%"))
