"""`gpu_hours` and `gpu_hours_utilization`: GPU-hours held (or kept busy) per workload, from
`gpu_usage`; capacity nobody held is idle, and so are held hours not busy under utilisation."""

from __future__ import annotations

import polars as pl

from roi.attribution.ledger import glob_regex
from roi.attribution.pool_bases import BasisRequest, finish, register
from roi.config import ModelConfig, PoolConfig
from roi.vocabulary import GPU_BASES, IDLE, IDLE_HELD, UNALLOCATED


def _gpu_model(models: tuple[ModelConfig, ...]) -> list[tuple[str, str]]:
    """(regex, model id) for every GPU workload pattern, in model order."""
    return [
        (glob_regex(pattern), m.model_id) for m in models for pattern in m.selectors.gpu_workloads
    ]


def _match_workload(
    patterns: list[tuple[str, str]], namespace: str | None, workload: str | None, pod: str | None
) -> str | None:
    import re

    names = [n for n in (workload, pod, f"{namespace}/{workload}" if namespace else None) if n]
    for regex, model_id in patterns:
        if any(re.match(regex, n) for n in names):
            return model_id
    return None


def _hours(column: str) -> pl.Expr:
    """Exact GPU-seconds summed, as hours."""
    return pl.col(column).sum().cast(pl.Float64) / 3600


@register("gpu_hours", "gpu_hours_utilization")
def gpu_weights(request: BasisRequest) -> pl.DataFrame:
    """GPU-hours held (and busy) per model on the pool's clusters, idle capacity apart (the
    samples folded by the request's engine, DuckDB on its connection by default:
    `roi.fold.gpu`)."""
    from roi.fold.engines import DUCKDB, gpu_frames

    pool, models = request.pool, request.models
    clusters = tuple(pool.usage.clusters)
    held, capacity = gpu_frames(request.con, clusters, request.month, request.engine or DUCKDB)
    patterns = _gpu_model(models)
    names = held.select("namespace", "workload", "pod").unique()
    mapping = names.with_columns(
        target=pl.struct("namespace", "workload", "pod").map_elements(
            lambda r: _match_workload(patterns, r["namespace"], r["workload"], r["pod"]),
            return_dtype=pl.String,
        )
    )
    held = held.join(mapping, on=["namespace", "workload", "pod"], how="left", nulls_equal=True)
    by_basis = "busy" if pool.basis == "gpu_hours_utilization" else "held"
    rows = held.with_columns(
        reason=pl.when(pl.col("target").is_null())
        .then(
            pl.lit(f"pool {pool.pool_id}: GPU workload ")
            + pl.coalesce("workload", "pod", pl.lit("(unnamed)"))
            + pl.lit(" matches no model")
        )
        .otherwise(None),
        target=pl.col("target").fill_null(UNALLOCATED),
    )
    used = (
        rows.group_by("month", "target", "reason")
        .agg(_hours("held").alias("quantity"), _hours("busy").alias("usage_quantity"))
        .with_columns(weight=pl.col("usage_quantity" if by_basis == "busy" else "quantity"))
    )
    totals = rows.group_by("month").agg(_hours("held").alias("held"), _hours("busy"))
    capacity = capacity.with_columns(pl.col("capacity").cast(pl.Float64) / 3600)
    frames = [used, *_idle_rows(pool, capacity, totals)]
    return finish(pl.concat([f.select(used.columns) for f in frames]), "GPU-hours")


def _idle_rows(
    pool: PoolConfig, capacity: pl.DataFrame, totals: pl.DataFrame
) -> list[pl.DataFrame]:
    """The pool's idle lines the pool keeps apart: `__idle__`, the capacity no workload held
    (capacity − held), and under `gpu_hours_utilization` `__idle_held__`, the GPU-hours held
    but not busy (held − busy). A line left out is shared back: the others' weights split it.
    """
    hours = capacity.join(totals, on="month", how="left").with_columns(
        pl.col("held").fill_null(0.0), pl.col("busy").fill_null(0.0)
    )
    unheld = (pl.col("capacity") - pl.col("held")).clip(0)
    held_idle = (pl.col("held") - pl.col("busy")).clip(0)
    out = []
    if pool.idle == "separate":
        out.append(
            hours.select(
                "month",
                pl.lit(IDLE).alias("target"),
                pl.lit(None, pl.String).alias("reason"),
                unheld.alias("quantity"),
                (pl.col("capacity") - pl.col("busy")).clip(0).alias("usage_quantity"),
                unheld.alias("weight"),
            )
        )
    if pool.basis == "gpu_hours_utilization" and pool.idle_held == "separate":
        out.append(
            hours.select(
                "month",
                pl.lit(IDLE_HELD).alias("target"),
                pl.lit(None, pl.String).alias("reason"),
                held_idle.alias("quantity"),
                pl.lit(0.0).alias("usage_quantity"),
                held_idle.alias("weight"),
            )
        )
    return out


def gpu_pool_rules(pools: tuple[PoolConfig, ...]) -> list[str]:
    """Rule ids of the pools split by GPU-hours."""
    return [p.rule_id for p in pools if p.basis in GPU_BASES]


def gpu_cost_sql(pools: tuple[PoolConfig, ...]) -> tuple[str, list[object]]:
    """SQL true for cost rows that are GPU cost: GPU compute lines and all a GPU pool charged
    (its nodes' disks included), with its parameters."""
    rules = gpu_pool_rules(pools)
    if not rules:
        return "cost_type = 'gpu_compute'", []
    return f"(cost_type = 'gpu_compute' OR rule_id IN ({', '.join('?' for _ in rules)}))", [*rules]
