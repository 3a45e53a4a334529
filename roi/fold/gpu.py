"""The GPU samples fold, once: `gpu_usage` into per-month GPU-seconds of a pool's clusters, as
Ibis expressions compiled per engine like the billing fold (`roi.fold.definition`).

Two folds weigh a pool split by GPU-hours (`roi.attribution.pool_bases.gpu_hours`): the
GPU-seconds each workload held (its interval times its `gpu_share`) and kept busy (times the
GPU's utilisation, none counting as idle) per month, namespace, workload and pod; and the
capacity, the seconds of every distinct GPU interval sampled on the clusters (held or not), per
month. Which model a workload belongs to is matched afterwards, once per distinct name, on the
machine running roi.

A sample's length is the exact count of microseconds between its start and end instants
(`MicrosecondsBetween`) over 10⁶, as a double; its GPU-seconds are cast to DECIMAL(38,9) (a
nanosecond) and summed exactly, so the sums do not depend on the order an engine's threads add
them in. Months are UTC ranges, as in the billing fold.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.rules as rlz
from ibis.backends.sql.compilers import (
    BigQueryCompiler,
    DuckDBCompiler,
    PySparkCompiler,
    SnowflakeCompiler,
    TrinoCompiler,
)
from ibis.expr.types import BooleanValue, Table

from roi.fold.definition import MonthFilter, ibis_type, in_months
from roi.tables import GPU_USAGE


class MicrosecondsBetween(ops.Value):  # type: ignore[misc]
    """The microseconds from one instant to another, exactly, as each engine counts them
    fastest: from their epoch microseconds (DuckDB's `date_diff` and interval arithmetic on
    TIMESTAMPTZ go through its calendar and take 50 times as long)."""

    start: ops.Value[dt.Timestamp]
    end: ops.Value[dt.Timestamp]
    dtype = dt.int64
    shape = rlz.shape_like("args")


def _epoch_micros(function: str) -> Any:
    def visit(compiler: Any, op: MicrosecondsBetween, *, start: Any, end: Any) -> Any:
        return compiler.f[function](end) - compiler.f[function](start)

    return visit


def _snowflake(compiler: Any, op: MicrosecondsBetween, *, start: Any, end: Any) -> Any:
    return compiler.f.date_part("epoch_microsecond", end) - compiler.f.date_part(
        "epoch_microsecond", start
    )


def _trino(compiler: Any, op: MicrosecondsBetween, *, start: Any, end: Any) -> Any:
    # Trino's date_diff counts milliseconds at most (its timestamps' default precision).
    return compiler.f.date_diff("millisecond", start, end) * 1000


# One rule per engine roi compiles for (Databricks' compiler is Spark's, Athena's Trino's).
DuckDBCompiler.visit_MicrosecondsBetween = _epoch_micros("epoch_us")
PySparkCompiler.visit_MicrosecondsBetween = _epoch_micros("unix_micros")
BigQueryCompiler.visit_MicrosecondsBetween = _epoch_micros("unix_micros")
SnowflakeCompiler.visit_MicrosecondsBetween = _snowflake
TrinoCompiler.visit_MicrosecondsBetween = _trino

# The columns the GPU folds read: the input contract for `gpu_usage` on any engine.
GPU_COLUMNS = (
    "interval_start",
    "interval_end",
    "cluster",
    "gpu_uuid",
    "namespace",
    "workload",
    "pod",
    "gpu_share",
    "utilization",
)
SECONDS = "decimal(38, 9)"  # exact GPU-seconds, to the nanosecond


def gpu_usage_table(name: str = "gpu_usage") -> Table:
    """An unbound table with the columns the GPU folds read, typed as in the contract."""
    types = GPU_USAGE.types
    return ibis.table({c: ibis_type(types[c]) for c in GPU_COLUMNS}, name=name)


def _seconds(rows: Table) -> Any:
    """Each sample's length in seconds (a double, from its exact microseconds)."""
    micros = MicrosecondsBetween(rows.interval_start, rows.interval_end).to_expr()
    return micros.cast("float64") / 1e6


def _on_clusters(source: Table, clusters: tuple[str, ...], months: MonthFilter) -> Table:
    kept: list[BooleanValue] = [source.cluster.isin(clusters)]
    when = in_months(source.interval_start, months)
    if when is not None:
        kept.append(when)
    return source.filter(*kept)


def _month(rows: Table) -> Any:
    return rows.interval_start.truncate("M").cast("date").name("month")


def gpu_held(source: Table, clusters: tuple[str, ...], months: MonthFilter = None) -> Table:
    """GPU-seconds held (interval × share) and busy (× utilisation, null as 0) on `clusters`,
    per month, namespace, workload and pod: exact sums of DECIMAL(38,9) seconds."""
    rows = _on_clusters(source, clusters, months)
    rows = rows.filter(rows.gpu_share > 0)
    held = _seconds(rows) * rows.gpu_share
    busy = held * rows.utilization.coalesce(0)
    return rows.aggregate(
        by=[_month(rows), rows.namespace, rows.workload, rows.pod],
        held=held.cast(SECONDS).sum(),
        busy=busy.cast(SECONDS).sum(),
    )


def gpu_capacity(source: Table, clusters: tuple[str, ...], months: MonthFilter = None) -> Table:
    """GPU-seconds of capacity on `clusters` per month: each distinct GPU interval sampled
    (whoever held it, or no one) once, an exact sum of DECIMAL(38,9) seconds."""
    rows = _on_clusters(source, clusters, months)
    gpus = rows.select("cluster", "gpu_uuid", "interval_start", "interval_end").distinct()
    return gpus.aggregate(by=[_month(gpus)], capacity=_seconds(gpus).cast(SECONDS).sum())
