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
from roi.tables import COST_LINES

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


def _contract_ddl(has_map: bool) -> str:
    """The `cost_lines` contract as a Spark schema (CSV has no maps: tag text only)."""
    kinds = {"VARCHAR": "STRING", "TIMESTAMPTZ": "TIMESTAMP", "INTEGER": "INT"}
    columns = []
    for name, kind in COST_LINES.types.items():
        if kind.startswith("MAP"):
            if has_map:
                columns.append(f"`{name}` MAP<STRING, STRING>")
            continue
        columns.append(f"`{name}` {kinds.get(kind, kind)}")
    return ", ".join(columns)


def register_billing(spark: Any, engine: EngineSettings, files: list[str]) -> bool:
    """Make the billing lines the `cost_lines` view of the session; whether it has tag maps.

    `files`: the warehouse's own Parquet files, read when `[engine] billing` names no source.

    Raises:
        EngineError: the source cannot be read (naming it and what to check).
    """
    source = engine.billing or (f"{len(files)} billing file(s) of the warehouse")
    try:
        if engine.billing and engine.billing_format == "table":
            frame = spark.table(engine.billing)
        elif engine.billing and engine.billing_format == "csv":
            frame = spark.read.schema(_contract_ddl(False)).csv(
                engine.billing, header=True, recursiveFileLookup=True
            )
        elif engine.billing:
            frame = spark.read.option("recursiveFileLookup", "true").parquet(engine.billing)
        elif files:
            frame = spark.read.parquet(*files)
        else:
            frame = spark.createDataFrame([], _contract_ddl(True))
        frame = _with_lineage(frame)
        frame.createOrReplaceTempView(VIEW)
        return str(dict(frame.dtypes).get("tags", "")).startswith("map")
    except Exception as exc:
        raise EngineError(
            f"{_where(engine)} cannot read the billing lines ({source}): {exc}; check the "
            "path or table name, that the engine can reach it (credentials, network), and "
            "that the files have cost_lines' columns"
        ) from exc


def _with_lineage(frame: Any) -> Any:
    """Lines without roi's lineage columns name the file they were read from instead."""
    from pyspark.sql import functions as F

    if "source_file" not in frame.columns:
        frame = frame.withColumn("source_file", F.input_file_name())
    if "_load_id" not in frame.columns:
        frame = frame.withColumn("_load_id", F.lit(None).cast("string"))
    return frame


def collect(spark: Any, sql: str) -> pl.DataFrame:
    """Run a query in the session; its rows as a Polars frame (through Arrow)."""
    result = pl.from_arrow(spark.sql(sql).toArrow())
    assert isinstance(result, pl.DataFrame)
    return result


def register_table(spark: Any, name: str, rows: Any) -> None:
    """Make an Arrow table (rows the warehouse holds, e.g. `inference_usage`) a temporary view
    of the session, under `name`."""
    spark.createDataFrame(rows).createOrReplaceTempView(name)
