"""The fold on Spark: a local session or a Spark Connect server, reading the billing lines where
they live, running the fold's SQL (compiled from the one definition) and bringing the groups
back as Arrow.

The session is made once per process and set to UTC, so months are cut where DuckDB cuts them.
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlparse

import polars as pl

from roi.config import EngineSettings
from roi.errors import RoiError
from roi.fold.definition import FOLD_COLUMNS
from roi.tables import COST_LINES, Table

VIEW = "cost_lines"
_sessions: dict[tuple[Any, ...], Any] = {}


class EngineError(RoiError):
    """The engine the fold runs on cannot be reached or cannot read the billing lines."""


def _where(engine: EngineSettings) -> str:
    return f"Spark Connect server {engine.remote}" if engine.remote else f"Spark {engine.master}"


def _check_reachable(remote: str) -> None:
    """A Spark Connect URL's host and port answer (the client would retry for minutes)."""
    parsed = urlparse(remote.replace("sc://", "http://", 1))
    host, port = parsed.hostname or "", parsed.port or 15002
    try:
        with socket.create_connection((host, port), timeout=5):
            pass
    except OSError as exc:
        raise EngineError(
            f"cannot reach the Spark Connect server {remote} ({exc.strerror or exc}); check "
            f"that the server is running (sbin/start-connect-server.sh), that {host}:{port} is "
            "the address it listens on and that no firewall is in the way, or set "
            '[engine] kind = "duckdb" in roi.toml'
        ) from exc


def session(engine: EngineSettings) -> Any:
    """The process's Spark session for `engine` (made on first use).

    Raises:
        EngineError: pyspark is not installed, Java is missing, or the server is unreachable.
    """
    key = (engine.remote, engine.master, tuple(sorted(engine.spark_conf.items())))
    if key in _sessions:
        return _sessions[key]
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError(
            'the spark engine needs pyspark: pip install "roi[spark]" (and Java 17 for a '
            'local master), or set [engine] kind = "duckdb" in roi.toml'
        ) from exc
    if engine.remote:
        _check_reachable(engine.remote)
    builder = SparkSession.builder.appName("roi fold")
    if engine.remote:
        builder = builder.remote(engine.remote)
    else:
        builder = (
            builder.master(engine.master)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
        )
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    for name, value in engine.spark_conf.items():
        builder = builder.config(name, value)
    try:
        spark = builder.getOrCreate()
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    except Exception as exc:
        what = (
            "check the server's address and that its Spark version matches pyspark's"
            if engine.remote
            else "check that Java 17 is installed (java -version) and JAVA_HOME points to it"
        )
        raise EngineError(f"cannot start {_where(engine)}: {exc}; {what}") from exc
    if not engine.remote:
        spark.sparkContext.setLogLevel("ERROR")
    _sessions[key] = spark
    return spark


def stop_sessions() -> None:
    """Stop every session this process made (tests; a CLI process just exits)."""
    for spark in _sessions.values():
        spark.stop()
    _sessions.clear()


_SPARK_TYPES = {
    "VARCHAR": "STRING",
    "TIMESTAMPTZ": "TIMESTAMP",
    "INTEGER": "INT",
    "MAP(VARCHAR, VARCHAR)": "MAP<STRING, STRING>",
}


def _spark_type(kind: str) -> str:
    """A contract column's DuckDB type as Spark's (DECIMAL, DOUBLE and BIGINT are the same)."""
    return _SPARK_TYPES.get(kind, kind)


def _contract_ddl(contract: Table, columns: tuple[str, ...]) -> str:
    """Some of a contract's columns as a Spark schema."""
    types = contract.types
    return ", ".join(f"`{c}` {_spark_type(types[c])}" for c in columns)


def read_source(spark: Any, where: str, fmt: str, contract: Table, columns: tuple[str, ...]) -> Any:
    """Rows where they live, as a frame with `columns` of `contract`, typed as it says.

    `where` is a folder, glob or object-store URL of Parquet or CSV files (read recursively;
    a CSV's header names its columns), or with `fmt = "table"` a table of the catalog.
    Columns are matched by name, whatever their order. Lines without roi's lineage name the
    file they were read from; a column the contract does not require may be missing (null);
    a required one missing is an error naming it.

    Raises:
        EngineError: a required column is missing, or a map column is not a map.
    """
    if fmt == "table":
        frame = spark.table(where)
    elif fmt == "csv":  # every column as text, then cast by name below
        frame = spark.read.csv(where, header=True, recursiveFileLookup=True)
    else:
        frame = spark.read.option("recursiveFileLookup", "true").parquet(where)
    frame = _with_lineage(frame)
    return conform(frame, contract, columns)


def conform(frame: Any, contract: Table, columns: tuple[str, ...]) -> Any:
    """`frame`'s `columns`, by name, cast to `contract`'s types (see `read_source`)."""
    from pyspark.sql import functions as F

    have = {name.lower(): name for name in frame.columns}
    kinds = {name.lower(): str(kind) for name, kind in frame.dtypes}
    required = {c.name for c in contract.columns if c.required}
    lineage = {"source_file", "_load_id", "source_row"}
    missing = [c for c in columns if c.lower() not in have and c in required - lineage]
    if missing:
        raise EngineError(
            f"no column {', '.join(missing)}: the rows need {contract.name}'s columns "
            f"({', '.join(columns)}), by name"
        )
    selected = []
    for name in columns:
        kind = _spark_type(contract.types[name])
        if name.lower() not in have:
            selected.append(F.lit(None).cast(kind).alias(name))
        elif kind.startswith("MAP"):
            if not kinds[name.lower()].startswith("map"):
                raise EngineError(
                    f"column {name} is {kinds[name.lower()]}, not a map of text: leave it out "
                    "and give the tags as JSON text in tags_raw"
                )
            selected.append(F.col(have[name.lower()]).alias(name))
        else:
            selected.append(F.col(have[name.lower()]).cast(kind).alias(name))
    return frame.select(*selected)


def register_billing(spark: Any, engine: EngineSettings, files: list[str]) -> bool:
    """Make the billing lines the `cost_lines` view of the session; whether it has tag maps.

    `files`: the warehouse's own Parquet files, read when `[engine] billing` names no source.

    Raises:
        EngineError: the source cannot be read (naming it and what to check).
    """
    source = engine.billing or (f"{len(files)} billing file(s) of the warehouse")
    try:
        if engine.billing:
            frame = read_source(
                spark, engine.billing, engine.billing_format, COST_LINES, FOLD_COLUMNS
            )
        elif files:
            frame = conform(spark.read.parquet(*files), COST_LINES, FOLD_COLUMNS)
        else:
            frame = spark.createDataFrame([], _contract_ddl(COST_LINES, FOLD_COLUMNS))
        frame.createOrReplaceTempView(VIEW)
        return str(dict(frame.dtypes).get("tags", "")).startswith("map")
    except Exception as exc:
        raise EngineError(
            f"{_where(engine)} cannot read the billing lines ({source}): {_first_line(exc)}; "
            "check [engine] billing (the path or table name) and billing_format, that the "
            "engine can reach it (credentials, network), and that the rows have cost_lines' "
            "columns"
        ) from exc


def register_usage(
    spark: Any, engine: EngineSettings, contract: Table, columns: tuple[str, ...], warehouse: Any
) -> None:
    """Make the LLM requests (`inference_usage`) or the GPU samples (`gpu_usage`) a view of
    the session under the table's name: read where they live (`[engine] usage` or
    `gpu_usage`), else `warehouse()`'s Arrow rows, the warehouse's table, shipped to Spark.

    Raises:
        EngineError: the source cannot be read (naming the key, the source and what to check).
    """
    key = "usage" if contract.name == "inference_usage" else contract.name
    where: str | None = getattr(engine, key)
    fmt: str = getattr(engine, f"{key}_format")
    source = where or f"the warehouse's {contract.name}"
    try:
        if where:
            frame = read_source(spark, where, fmt, contract, columns)
        else:
            frame = conform(spark.createDataFrame(warehouse()), contract, columns)
        frame.createOrReplaceTempView(contract.name)
    except Exception as exc:
        raise EngineError(
            f"{_where(engine)} cannot read {contract.name} ({source}): {_first_line(exc)}; "
            f"check [engine] {key} (the path or table name) and {key}_format, that the engine "
            f"can reach it (credentials, network), and that the rows have {contract.name}'s "
            "columns"
        ) from exc


def _first_line(exc: Exception) -> str:
    """An exception's message without a JVM's stack trace."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _with_lineage(frame: Any) -> Any:
    """Lines without roi's lineage columns name the file they were read from instead."""
    from pyspark.sql import functions as F

    columns = {c.lower() for c in frame.columns}
    if "source_file" not in columns:
        frame = frame.withColumn("source_file", F.input_file_name())
    if "_load_id" not in columns:
        frame = frame.withColumn("_load_id", F.lit(None).cast("string"))
    return frame


def collect(spark: Any, sql: str, engine: EngineSettings | None = None) -> pl.DataFrame:
    """Run a query in the session; its rows as a Polars frame (through Arrow).

    Raises:
        EngineError: the engine failed running it (a value it cannot read, a lost server).
    """
    from roi.fold.spark_progress import watching

    where = _where(engine) if engine else "Spark"
    try:
        with watching(spark, f"{where}: folding"):
            result = pl.from_arrow(spark.sql(sql).toArrow())
    except Exception as exc:
        cause = _first_line(exc)
        if "TaskResultLost" in str(exc) or "maxResultSize" in str(exc):
            # The groups did not fit the driver: the data were fine, the driver too small.
            hint = (
                "the folded groups did not fit the Spark driver; raise spark.driver.memory "
                'and spark.driver.maxResultSize in [engine] spark_conf (e.g. "8g" and "4g")'
            )
            cause = next(
                (line.strip() for line in str(exc).splitlines() if "TaskResultLost" in line),
                cause,
            )
        else:
            hint = "check that the sources [engine] names hold their tables' columns and types"
        raise EngineError(f"{where} failed folding the rows: {cause}; {hint}") from exc
    assert isinstance(result, pl.DataFrame)
    return result
