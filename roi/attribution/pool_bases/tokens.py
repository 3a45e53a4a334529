"""`tokens`, `tokens_priced`, `reported_cost` and `requests`: the pool's LLM requests from
`inference_usage`, matched to models by portfolio id or feature."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from roi.attribution.ledger import MonthFilter, glob_regex
from roi.attribution.pool_bases import BasisRequest, finish, register
from roi.config import EngineSettings, ModelConfig, PoolConfig
from roi.fold.requests import Requests
from roi.vocabulary import UNALLOCATED
from roi.warehouse import Connection


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


def with_target_model(usage: pl.DataFrame, models: tuple[ModelConfig, ...]) -> pl.DataFrame:
    """LLM usage rows with `target`: the model each (portfolio id, feature) belongs to."""
    names = usage.select("model_id", "feature").unique()
    model_of = llm_model_matcher(models)
    targets = names.with_columns(
        target=pl.struct("model_id", "feature").map_elements(
            lambda r: model_of(r["model_id"], r["feature"]), return_dtype=pl.String
        )
    )
    return usage.join(targets, on=["model_id", "feature"], how="left", nulls_equal=True)


def pool_requests(pool: PoolConfig) -> Requests:
    """The `inference_usage` rows a pool splits its bill by: its providers, or a deployment
    matching one of its globs (none: the pool takes no requests)."""
    deployments = "|".join(f"(?:{glob_regex(p)})" for p in pool.usage.deployments)
    return Requests(tuple(pool.usage.providers), deployments or None)


def llm_usage(
    con: Connection, pool: PoolConfig, month: MonthFilter, engine: EngineSettings | None = None
) -> pl.DataFrame:
    """The pool's LLM requests per month, model id and feature: requests, tokens, cost
    (folded by `engine`, DuckDB on `con` by default: `roi.fold.usage.pool_usage`)."""
    from roi.fold.engines import DUCKDB, pool_usage_frame

    return pool_usage_frame(con, pool_requests(pool), month, engine or DUCKDB)


@register("tokens", "tokens_priced", "reported_cost", "requests")
def token_weights(request: BasisRequest) -> pl.DataFrame:
    """Tokens (raw or priced), reported cost or requests per model of the pool's LLM usage."""
    con, pool, models, month = request.con, request.pool, request.models, request.month
    usage = with_target_model(llm_usage(con, pool, month, request.engine), models)
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
    return finish(grouped, unit)
