"""The bases a shared pool is split by, per month: who used how much of it.

Each basis returns one row per (month, target) with a weight, where a target is a model, the
pool's idle capacity (`__idle__`; `__idle_held__` for GPU-hours held but not busy), or usage no
model's selectors claim (`__unallocated__`, with the reason). GPU bases come from `gpu_usage`,
token bases from `inference_usage`, the others from the project's definitions or the direct
stage.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from roi import warehouse
from roi.attribution.ledger import MonthFilter, glob_regex, month_sql
from roi.config import ModelConfig, PoolConfig
from roi.vocabulary import GPU_BASES, IDLE, IDLE_HELD, TOKEN_BASES, UNALLOCATED
from roi.warehouse import Connection

WEIGHTS_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "currency": pl.String(),  # null: the weights hold for every currency
    "target": pl.String(),
    "reason": pl.String(),
    "weight": pl.Float64(),
    "quantity": pl.Float64(),
    "usage_quantity": pl.Float64(),
    "unit": pl.String(),
}


def _in_list(column: str, values: tuple[str, ...]) -> tuple[str, list[object]]:
    marks = ", ".join("?" for _ in values)
    return f"{column} IN ({marks})", list(values)


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


# GPU-seconds are summed as exact decimals (a nanosecond's precision): float sums depend on the
# order DuckDB's threads add them in, and the weights must not change from one run to the next.
_SECONDS = "DECIMAL(38,9)"


def _hours(column: str) -> pl.Expr:
    """Exact GPU-seconds summed, as hours."""
    return pl.col(column).sum().cast(pl.Float64) / 3600


def gpu_weights(
    con: Connection, pool: PoolConfig, models: tuple[ModelConfig, ...], month: MonthFilter
) -> pl.DataFrame:
    """GPU-hours held (and busy) per model on the pool's clusters, idle capacity apart."""
    clusters, params = _in_list("cluster", pool.usage.clusters)
    when, month_params = month_sql("interval_start", month)
    held = warehouse.fetch_frame(
        con,
        f"""SELECT date_trunc('month', interval_start)::DATE AS month, namespace, workload, pod,
                   sum((epoch(interval_end - interval_start) * gpu_share)::{_SECONDS}) AS held,
                   sum((epoch(interval_end - interval_start) * gpu_share
                       * coalesce(utilization, 0))::{_SECONDS}) AS busy
            FROM gpu_usage WHERE {clusters} AND {when} AND gpu_share > 0
            GROUP BY ALL""",
        [*params, *month_params],
    )
    capacity = warehouse.fetch_frame(
        con,
        f"""SELECT date_trunc('month', interval_start)::DATE AS month,
                   sum(epoch(interval_end - interval_start)::{_SECONDS}) AS capacity
            FROM (SELECT DISTINCT cluster, gpu_uuid, interval_start, interval_end
                  FROM gpu_usage WHERE {clusters} AND {when})
            GROUP BY 1""",
        [*params, *month_params],
    )
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
    return _finish(pl.concat([f.select(used.columns) for f in frames]), "GPU-hours")


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


def llm_model_matcher(
    models: tuple[ModelConfig, ...],
) -> Callable[[str | None, str | None], str | None]:
    """A function giving the model an LLM request belongs to: its portfolio id, else the
    first model whose feature selector matches (patterns compiled once)."""
    import re

    known = {m.model_id for m in models}
    patterns = [
        (m.model_id, re.compile(glob_regex(p))) for m in models for p in m.selectors.llm_features
    ]

    def model_of(model_id: str | None, feature: str | None) -> str | None:
        if model_id in known:
            return model_id
        if feature:
            for target, pattern in patterns:
                if pattern.match(feature):
                    return target
        return None

    return model_of


def usage_condition(pool: PoolConfig) -> tuple[str, list[object]]:
    """SQL true for the `inference_usage` rows a pool splits its bill by (false: none)."""
    conditions: list[str] = []
    params: list[object] = []
    if pool.usage.providers:
        clause, values = _in_list("provider", pool.usage.providers)
        conditions.append(clause)
        params += values
    if pool.usage.deployments:
        conditions.append("regexp_matches(coalesce(deployment, ''), ?)")
        params.append("|".join(f"(?:{glob_regex(p)})" for p in pool.usage.deployments))
    return (" OR ".join(conditions) or "false"), params


def llm_usage(con: Connection, pool: PoolConfig, month: MonthFilter) -> pl.DataFrame:
    """The pool's LLM requests per month, model id and feature: requests, tokens, cost."""
    condition, params = usage_condition(pool)
    when, month_params = month_sql("ts", month)
    return warehouse.fetch_frame(
        con,
        f"""SELECT date_trunc('month', ts)::DATE AS month, model_id, feature,
                   sum(requests)::DOUBLE AS requests, sum(input_tokens)::DOUBLE AS input,
                   sum(cached_input_tokens)::DOUBLE AS cached,
                   sum(cache_write_tokens)::DOUBLE AS cache_write,
                   sum(output_tokens)::DOUBLE AS output, sum(cost) AS cost
            FROM inference_usage WHERE ({condition}) AND {when}
            GROUP BY ALL ORDER BY ALL""",
        [*params, *month_params],
    )


def token_weights(
    con: Connection, pool: PoolConfig, models: tuple[ModelConfig, ...], month: MonthFilter
) -> pl.DataFrame:
    """Tokens (raw or priced), reported cost or requests per model of the pool's LLM usage."""
    usage = llm_usage(con, pool, month)
    names = usage.select("model_id", "feature").unique()
    model_of = llm_model_matcher(models)
    mapping = names.with_columns(
        target=pl.struct("model_id", "feature").map_elements(
            lambda r: model_of(r["model_id"], r["feature"]), return_dtype=pl.String
        )
    )
    usage = usage.join(mapping, on=["model_id", "feature"], how="left", nulls_equal=True)
    prices = pool.token_prices
    tokens = pl.col("input") + pl.col("output")
    priced = (
        (pl.col("input") - pl.col("cached") - pl.col("cache_write")) * prices.get("input", 0.0)
        + pl.col("cached") * prices.get("cached_input", 0.0)
        + pl.col("cache_write") * prices.get("cache_write", 0.0)
        + pl.col("output") * prices.get("output", 0.0)
    ) / 1e6
    weight = {
        "tokens": tokens,
        "tokens_priced": priced,
        "reported_cost": pl.col("cost").cast(pl.Float64).fill_null(0.0),
        "requests": pl.col("requests"),
    }[pool.basis]
    unit = {"requests": "requests", "reported_cost": "reported cost"}.get(pool.basis, "tokens")
    rows = usage.with_columns(
        reason=pl.when(pl.col("target").is_null())
        .then(
            pl.lit(f"pool {pool.pool_id}: LLM feature ")
            + pl.coalesce("feature", pl.lit("(none)"))
            + pl.lit(" matches no model")
        )
        .otherwise(None),
        target=pl.col("target").fill_null(UNALLOCATED),
        weight=weight,
        quantity=tokens if unit == "tokens" else weight,
        usage_quantity=tokens,
    )
    grouped = rows.group_by("month", "target", "reason").agg(
        pl.col("weight").sum(), pl.col("quantity").sum(), pl.col("usage_quantity").sum()
    )
    return _finish(grouped, unit)


def declared_weights(pool: PoolConfig, months: list[date]) -> pl.DataFrame:
    """`even` and `fixed` pools: the same declared weights every month."""
    shares = dict(pool.shares) if pool.basis == "fixed" else dict.fromkeys(pool.models, 1.0)
    rows = [
        {"month": m, "target": t, "reason": None, "weight": w, "quantity": w, "usage_quantity": w}
        for m in months
        for t, w in shares.items()
    ]
    return _finish(
        pl.DataFrame(
            rows,
            schema={
                "month": pl.Date,
                "target": pl.String,
                "reason": pl.String,
                "weight": pl.Float64,
                "quantity": pl.Float64,
                "usage_quantity": pl.Float64,
            },
        ),
        "percent" if pool.basis == "fixed" else "share",
    )


def direct_cost_weights(pool: PoolConfig, allocated: pl.DataFrame) -> pl.DataFrame:
    """`direct_cost` pools: each model's direct cost that month, in the same currency."""
    direct = allocated.filter(pl.col("basis") == "direct")
    if pool.models:
        direct = direct.filter(pl.col("model_id").is_in(list(pool.models)))
    rows = (
        direct.group_by("month", "currency", "model_id")
        .agg(pl.col("amount").sum().cast(pl.Float64).alias("weight"))
        .filter(pl.col("weight") > 0)
        .select(
            "month",
            "currency",
            pl.col("model_id").alias("target"),
            pl.lit(None, pl.String).alias("reason"),
            "weight",
            pl.col("weight").alias("quantity"),
            pl.col("weight").alias("usage_quantity"),
            pl.lit("direct cost").alias("unit"),
        )
    )
    return rows.cast(WEIGHTS_SCHEMA)  # type: ignore[arg-type]


def _finish(frame: pl.DataFrame, unit: str) -> pl.DataFrame:
    out = frame.with_columns(currency=pl.lit(None, pl.String), unit=pl.lit(unit))
    return out.select(list(WEIGHTS_SCHEMA)).cast(WEIGHTS_SCHEMA)  # type: ignore[arg-type]


def pool_weights(
    con: Connection,
    pool: PoolConfig,
    models: tuple[ModelConfig, ...],
    allocated: pl.DataFrame,
    month: MonthFilter,
    months: list[date],
) -> pl.DataFrame:
    """The pool's weights per month (and currency, for `direct_cost`)."""
    if pool.basis in GPU_BASES:
        return gpu_weights(con, pool, models, month)
    if pool.basis in TOKEN_BASES:
        return token_weights(con, pool, models, month)
    if pool.basis == "direct_cost":
        return direct_cost_weights(pool, allocated)
    return declared_weights(pool, months)
