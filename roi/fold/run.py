"""The fold's SQL for a warehouse roi cannot reach (`roi fold --print-sql`); the fold run on
the project's engine with its reconciliation is `roi.attribution.reconcile.fold_summary`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from roi.fold.definition import DIALECTS, billing_fold, cost_lines_table, source_totals, to_sql
from roi.fold.gpu import gpu_capacity, gpu_held, gpu_usage_table
from roi.fold.requests import Requests
from roi.fold.usage import inference_usage_table, pool_usage, unpooled_usage

RUNS_HERE = ("duckdb", "spark")  # engines roi runs the fold on; the others get --print-sql


def print_sql(engine: str, month_basis: str, month: date | None, table: str) -> str:
    """The fold and the source totals as SQL for `engine`, over `table` (a table or view with
    the fold's columns: see the README's "Beyond one machine")."""
    *database, name = table.split(".")
    tags_map = engine in RUNS_HERE or engine == "databricks"
    source = cost_lines_table(name, tags_map)
    if database:
        source = _qualified(source, name, tuple(database))
    fold = to_sql(billing_fold(source, month_basis, month, by_file=True), engine)
    totals = to_sql(source_totals(source, month_basis, month), engine)
    return (
        f"-- roi fold for {engine} ({DIALECTS[engine]} dialect), months by {month_basis}\n"
        "-- 1. The line groups: save the result as Parquet or CSV for roi.\n"
        f"{fold};\n\n"
        "-- 2. The source totals per month and currency (reconciliation).\n"
        f"{totals};\n"
    )


def print_usage_sql(
    engine: str,
    month: date | None,
    table: str,
    pools: Mapping[str, Requests],
    pooled: tuple[Requests, ...],
    self_hosted: tuple[str, ...],
) -> str:
    """The LLM requests folds as SQL for `engine`, over `table` (with `inference_usage`'s
    columns): one per pool split by requests (`pools`: pool id → the requests it takes), then
    the requests no pool takes (`pooled`: what every pool takes) and not self-hosted."""
    *database, name = table.split(".")
    source = inference_usage_table(name)
    if database:
        source = _qualified(source, name, tuple(database))
    parts = [f"-- roi usage fold for {engine} ({DIALECTS[engine]} dialect)\n"]
    for i, (pool_id, requests) in enumerate(sorted(pools.items()), start=1):
        sql = to_sql(pool_usage(source, requests, month), engine)
        parts.append(f"-- {i}. The requests of pool {pool_id} per month, model and feature.\n")
        parts.append(f"{sql};\n\n")
    rest = to_sql(unpooled_usage(source, pooled, self_hosted, month), engine)
    parts.append(f"-- {len(pools) + 1}. The requests no pool takes (usage costs), per load.\n")
    parts.append(f"{rest};\n")
    return "".join(parts)


def print_gpu_sql(
    engine: str, month: date | None, table: str, pools: Mapping[str, tuple[str, ...]]
) -> str:
    """The GPU samples folds as SQL for `engine`, over `table` (with `gpu_usage`'s columns):
    for each pool split by GPU-hours (`pools`: pool id → its clusters), the GPU-seconds held
    and busy per month and workload, then the clusters' capacity per month."""
    *database, name = table.split(".")
    source = gpu_usage_table(name)
    if database:
        source = _qualified(source, name, tuple(database))
    parts = [f"-- roi GPU fold for {engine} ({DIALECTS[engine]} dialect)\n"]
    step = 0
    for pool_id, clusters in sorted(pools.items()):
        step += 1
        parts.append(
            f"-- {step}. The GPU-seconds held and busy on pool {pool_id}'s clusters per month, "
            "namespace, workload and pod.\n"
        )
        parts.append(f"{to_sql(gpu_held(source, clusters, month), engine)};\n\n")
        step += 1
        parts.append(f"-- {step}. The GPU-seconds of capacity on pool {pool_id}'s clusters.\n")
        parts.append(f"{to_sql(gpu_capacity(source, clusters, month), engine)};\n\n")
    if not pools:
        parts.append("-- The project has no pool split by GPU-hours.\n")
    return "".join(parts).rstrip("\n") + "\n"


def _qualified(source: object, name: str, database: tuple[str, ...]) -> object:
    import ibis

    schema = source.schema()  # type: ignore[attr-defined]
    if len(database) == 1:
        return ibis.table(schema, name=name, database=database[0])
    return ibis.table(schema, name=name, database=".".join(database[1:]), catalog=database[0])
