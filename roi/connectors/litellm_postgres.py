"""LiteLLM proxy usage read from its PostgreSQL database → `inference_usage`.

`[options] table` chooses what to read:
- `spend_logs` (default): `LiteLLM_SpendLogs`, one row per request, mapped exactly as the CSV
  dumps are (`roi.connectors.litellm`: cached tokens from the metadata, the portfolio model
  from `spend_logs_metadata`, the feature from a `feature:` tag); read incrementally by
  `startTime`.
- `daily_user`, `daily_team`, `daily_organization`, `daily_end_user`, `daily_agent`,
  `daily_tag`: LiteLLM's daily aggregate tables (one row per day × key × model × provider;
  the cheap path when spend logs run to millions of rows), read incrementally by
  `updated_at` (LiteLLM updates today's rows in place). Choose one: each counts all traffic.

Each load reads the rows after the last load's cursor less `[options] overlap_seconds`
(default 600): LiteLLM writes spend logs from a queue in batches, so a request can land after
a later one was written; rows read twice merge onto the same key. The server is `url`
(`postgresql://user@host:5432/litellm`, never a password: that is in the environment variable
`password_env` names, or in PGPASSWORD or ~/.pgpass) or the whole DSN in the environment variable
`dsn_env` names; the session is read-only with a statement timeout.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from roi.connectors import register
from roi.connectors.base import Connector, UrlMatch
from roi.connectors.kpi_sql import _first_line
from roi.connectors.litellm import OPTIONAL_SOURCE, REQUIRED_SOURCE, spend_log_batch
from roi.connectors.sql_url import dialect_name, postgres_where, sql_target
from roi.connectors.usage_rows import KINDS
from roi.errors import ConfigError, SourceError
from roi.loading.parsing import parse_columns
from roi.loading.protocol import Batch, Extracted
from roi.loading.tags import tag_json
from roi.progress import Progress
from roi.tables import INFERENCE_USAGE

Source = Literal[
    "spend_logs",
    "daily_user",
    "daily_team",
    "daily_organization",
    "daily_end_user",
    "daily_agent",
    "daily_tag",
]
# Daily table → (its name, the column naming who spent).
DAILY: dict[str, tuple[str, str]] = {
    "daily_user": ("LiteLLM_DailyUserSpend", "user_id"),
    "daily_team": ("LiteLLM_DailyTeamSpend", "team_id"),
    "daily_organization": ("LiteLLM_DailyOrganizationSpend", "organization_id"),
    "daily_end_user": ("LiteLLM_DailyEndUserSpend", "end_user_id"),
    "daily_agent": ("LiteLLM_DailyAgentSpend", "agent_id"),
    "daily_tag": ("LiteLLM_DailyTagSpend", "tag"),
}
DAILY_REQUIRED = ("id", "date", "model", "prompt_tokens", "completion_tokens", "spend")
DAILY_OPTIONAL = (
    "api_key",
    "model_group",
    "custom_llm_provider",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "api_requests",
    "updated_at",
)
CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class LiteLLMPostgresOptions:
    """`[options]` of a `litellm_postgres` connector (the DSN comes from `dsn_env`)."""

    table: Source = "spend_logs"
    schema: str = "public"
    portfolio_key: str = "model_portfolio_id"  # metadata.spend_logs_metadata key (spend logs)
    start: str | None = None  # first load: read rows from this ISO date on (default: all)
    overlap_seconds: int = 600  # re-read this much before the cursor (late queue writes)
    timeout: float = 300.0  # seconds the server may spend on one query


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def daily_batch(raw: pl.DataFrame, table: str, who: str, relative: str) -> Batch:
    """Daily-aggregate rows (text columns) as `inference_usage` rows: who spent (user, team,
    tag, ...) and the hashed key as tags; a `feature:<name>` tag (daily_tag) as the feature."""
    raw = raw.with_columns(
        pl.lit(None, pl.String).alias(c) for c in DAILY_OPTIONAL if c not in raw.columns
    )
    frame = raw.select(
        (pl.lit(f"litellm/{table}/") + pl.col("id")).alias("request_id"),
        pl.col("date").alias("ts"),
        pl.col("custom_llm_provider").alias("provider"),
        pl.col("model"),
        pl.coalesce("model_group", "model").alias("deployment"),
        pl.col("api_requests").fill_null("0").alias("requests"),
        pl.col("prompt_tokens").alias("input_tokens"),
        pl.col("completion_tokens").alias("output_tokens"),
        pl.col("cache_read_input_tokens").fill_null("0").alias("cached_input_tokens"),
        pl.col("cache_creation_input_tokens").fill_null("0").alias("cache_write_tokens"),
        pl.col("spend").alias("cost"),
        pl.col(who).alias("who"),
        pl.col("api_key"),
        pl.col("source_row"),
        source_file=pl.lit(relative),
    )
    frame = frame.with_columns(
        tags=pl.struct("who", "api_key").map_elements(
            lambda r: tag_json([(who, r["who"]), ("api_key", r["api_key"])]),
            return_dtype=pl.String,
        ),
        team=pl.col("who") if who == "team_id" else pl.lit(None, pl.String),
        feature=(
            pl.when(pl.col("who").str.starts_with("feature:")).then(
                pl.col("who").str.strip_prefix("feature:")
            )
            if who == "tag"
            else pl.lit(None, pl.String)
        ),
        currency=pl.lit("USD"),
        cost_source=pl.lit("reported"),
    ).drop("who", "api_key")
    parsed = parse_columns(frame, KINDS, required=("request_id", "ts", "model"))
    return Batch(parsed.frame, parsed.rejects)


def _existing_columns(cur: Any, schema: str, table: str) -> set[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s",
        [schema, table],
    )
    return {str(r[0]) for r in cur.fetchall()}


@dataclass(frozen=True)
class _Plan:
    """What one load selects: the table, its columns as text, the cursor column."""

    table: str
    columns: tuple[str, ...]
    cursor_column: str


@register
class LiteLLMPostgres(Connector):
    """LiteLLM's spend logs or daily aggregates, read from its PostgreSQL database."""

    type_name = "litellm_postgres"
    table = INFERENCE_USAGE
    description = (
        "LiteLLM proxy database (PostgreSQL): LiteLLM_SpendLogs or the daily spend tables (dsn_env)"
    )
    needs_location = False
    reads_urls = True
    takes_dsn = True
    Options = LiteLLMPostgresOptions

    @classmethod
    def recognises_url(cls, url: str) -> UrlMatch | None:
        """A PostgreSQL URL: LiteLLM's database."""
        if dialect_name(url) != "postgresql":
            return None
        return UrlMatch("a PostgreSQL URL (LiteLLM's database)", url)

    def _dsn(self) -> str:
        """The connection string: `url` (+ `password_env`) or `dsn_env`."""
        if self.config.url is None and "dsn" not in self.config.secret_env:
            raise ConfigError(
                f'{self.config.file}: name LiteLLM\'s database: dsn_env = "VAR" (the whole '
                'connection string in the environment) or url = "postgresql://user@host:5432/'
                'litellm" with password_env = "VAR"'
            )
        target = sql_target(self.config)
        if target.backend != "postgres":
            raise ConfigError(
                f"{self.config.file}: LiteLLM keeps its spend logs in PostgreSQL; {target.where} "
                "is not a postgresql:// server"
            )
        return target.dsn

    def _plan(self, cur: Any, where: str) -> _Plan:
        options = self.options
        required: tuple[str, ...]
        optional: tuple[str, ...]
        if options.table == "spend_logs":
            table, required, optional = "LiteLLM_SpendLogs", REQUIRED_SOURCE, OPTIONAL_SOURCE
            cursor_column = "startTime"
        else:
            table, who = DAILY[options.table]
            required, optional = (*DAILY_REQUIRED, who), DAILY_OPTIONAL
            cursor_column = "updated_at"
        found = _existing_columns(cur, options.schema, table)
        if not found:
            raise SourceError(
                f"{where}: no table {options.schema}.{table}; check that the url or dsn_env "
                "points at LiteLLM's database, and [options] schema (LiteLLM creates it on first "
                "start)"
            )
        missing = [c for c in (*required, cursor_column) if c not in found]
        if missing:
            raise SourceError(
                f"{where}: {table} has no column(s) {', '.join(missing)}; upgrade LiteLLM or "
                "choose another [options] table"
            )
        wanted = [*required, *(c for c in optional if c in found), cursor_column]
        columns = tuple(dict.fromkeys(wanted))
        return _Plan(table, columns, cursor_column)

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Select the rows after the last cursor (less the overlap), a chunk per batch."""
        import psycopg

        options = self.options
        if options.overlap_seconds < 0 or options.timeout <= 0:
            raise ConfigError(
                f"{self.config.file}: [options] overlap_seconds must be 0 or more and timeout "
                "positive"
            )
        dsn = self._dsn()
        where = postgres_where(dsn)
        settings = (
            f"-c default_transaction_read_only=on "
            f"-c statement_timeout={round(options.timeout * 1000)}"
        )
        try:
            conn = psycopg.connect(dsn, connect_timeout=10, options=settings)
        except psycopg.ProgrammingError:
            raise SourceError(
                "the connection string (url, or dsn_env's variable) is malformed; write "
                "postgresql://user@host:5432/litellm (password in PGPASSWORD or ~/.pgpass)"
            ) from None
        except psycopg.OperationalError as exc:
            raise SourceError(
                f"cannot connect to {where} ({_first_line(exc, dsn)}); check that LiteLLM's "
                "PostgreSQL is running and the url or the DSN in the variable named by dsn_env"
            ) from None
        try:
            with conn.cursor() as cur:
                plan = self._plan(cur, where)
        except BaseException:
            conn.close()
            raise
        source = f"{where}/{plan.table}#{self.config.name}"
        after = (state or {}).get("after") if (state or {}).get("table") == plan.table else None
        # The loader writes the cursor after the batches ran: they move it to the latest time
        # they read, so a load that fails half-way leaves the old cursor.
        cursor: dict[str, Any] = {"after": after, "table": plan.table}

        def batches() -> Iterator[Batch]:
            with conn, conn.cursor(name="roi_litellm") as cur:
                self._select(cur, plan, after, where)
                position = plan.columns.index(plan.cursor_column)
                first = 0
                while chunk := self._fetch(cur, plan, where):
                    raw = pl.DataFrame(
                        chunk, schema=dict.fromkeys(plan.columns, pl.String), orient="row"
                    ).with_columns(
                        source_row=pl.int_range(first + 1, first + len(chunk) + 1, dtype=pl.Int64)
                    )
                    first += len(chunk)
                    cursor["after"] = max(filter(None, [cursor["after"], chunk[-1][position]]))
                    if options.table == "spend_logs":
                        yield spend_log_batch(raw, options.portfolio_key, source)
                    else:
                        yield daily_batch(raw, plan.table, DAILY[options.table][1], source)

        return Extracted(batches=batches(), files=[source], cursor=cursor)

    def _select(self, cur: Any, plan: _Plan, after: str | None, where: str) -> None:
        """Open the query for the rows after the cursor (less the overlap), as text."""
        since = after or self.options.start
        condition, params = "true", []
        if since:
            condition = f"{_quoted(plan.cursor_column)} > %s::timestamp - %s * interval '1 second'"
            params = [since, self.options.overlap_seconds if after else 0]
        text = ", ".join(f"{_quoted(c)}::text" for c in plan.columns)
        table = f"{_quoted(self.options.schema)}.{_quoted(plan.table)}"
        sql = f"SELECT {text} FROM {table} WHERE {condition} ORDER BY {_quoted(plan.cursor_column)}"
        self._guarded(lambda: cur.execute(sql, params), plan, where)

    def _fetch(self, cur: Any, plan: _Plan, where: str) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._guarded(lambda: cur.fetchmany(CHUNK_ROWS), plan, where)
        return rows

    def _guarded(self, call: Any, plan: _Plan, where: str) -> Any:
        """Run a database call; its errors as one message naming the table."""
        import psycopg

        try:
            return call()
        except psycopg.errors.QueryCanceled:
            raise SourceError(
                f"{where}: reading {plan.table} took longer than [options] timeout "
                f"({self.options.timeout:g} s); raise it, or read a daily table instead"
            ) from None
        except psycopg.Error as exc:
            raise SourceError(
                f"{where}: reading {plan.table} failed ({str(exc).splitlines()[0]}); check the "
                "role can SELECT it"
            ) from None
