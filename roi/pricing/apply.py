"""Pricing usage rows with the book: Polars expressions over the whole frame, never per row.

`price_usage(frame, book)` is the one entry point (the loader, `roi reprice` and connectors of
usage without cost call it). Token semantics are roi's (`inference_usage`): `input_tokens`
includes cache reads (`cached_input_tokens`) and cache writes (`cache_write_tokens`, of which
`cache_write_1h_tokens` had the 1-hour lifetime); `output_tokens` includes `reasoning_tokens`.
A connector whose provider counts cached tokens outside input adds them in before this.

For a row, with prices per token p (after the fallbacks of `roi.pricing.entries`):

    cost = (input − cached − writes) · p_input + cached · p_cached_input
         + (writes − writes_1h) · p_cache_write + writes_1h · p_cache_write_1h
         + (output − reasoning) · p_output + reasoning · p_reasoning

at the prices of the row's service tier on the row's day (UTC), and of the long-context level
its input tokens per request exceed. The sum is exact (decimal) and rounded once, half to even,
to the warehouse's 10 decimals. A row whose model has no entry, whose tier or date has no price,
or with tokens of a component that has no price, is `unpriced`: its cost stays null, never 0.
"""

from __future__ import annotations

import polars as pl

from roi.frames import attach
from roi.pricing.book import PER_TOKEN, PriceBook, above_column, price_column
from roi.pricing.entries import COMPONENTS, Component
from roi.vocabulary import MONEY, SELF_HOSTED_PROVIDERS

KEYS = ("provider", "model", "service_tier", "day")
TOKENS = pl.Decimal(38, 0)
OPTIONAL_COUNTS = ("reasoning_tokens", "cache_write_1h_tokens")


def _levels(table: pl.DataFrame) -> int:
    return sum(1 for c in table.columns if c.startswith("_above_"))


def _count(name: str) -> pl.Expr:
    return pl.col(name).fill_null(0)


def component_tokens() -> dict[Component, pl.Expr]:
    """Each priced component's token count, from roi's columns."""
    writes, writes_1h = _count("cache_write_tokens"), _count("cache_write_1h_tokens")
    return {
        "input": _count("input_tokens") - _count("cached_input_tokens") - writes,
        "cached_input": _count("cached_input_tokens"),
        "cache_write": writes - writes_1h,
        "cache_write_1h": writes_1h,
        "output": _count("output_tokens") - _count("reasoning_tokens"),
        "reasoning": _count("reasoning_tokens"),
    }


def _level_price(component: Component, levels: int) -> pl.Expr:
    """The component's per-token price at the long-context level the row's requests reach."""
    per_request = _count("input_tokens") / pl.max_horizontal(_count("requests"), pl.lit(1))
    expr = pl.col(price_column(component, 0))
    for level in range(1, levels + 1):
        expr = (
            pl.when(per_request > pl.col(above_column(level)))
            .then(pl.col(price_column(component, level)))
            .otherwise(expr)
        )
    return expr


def price_usage(frame: pl.DataFrame, book: PriceBook) -> pl.DataFrame:
    """`frame` with its rows of null `cost` priced from `book`.

    `frame` has `inference_usage`'s columns (at least ts, provider, model, requests and the
    token counts; `service_tier`, `reasoning_tokens` and `cache_write_1h_tokens` may be
    missing or null: standard tier, none). Rows with a cost keep it. A priced row gets its cost
    in the book's currency, `cost_source` "priced", `price_version` the book's version and
    `currency` the book's; an unpriced row keeps a null cost with `cost_source` "unpriced" and
    the book's version. Self-hosted providers' rows (vLLM, Ollama...) are never priced per token:
    their cost is the GPU time the bills hold.
    """
    text = ("service_tier", "cost_source", "price_version")
    missing = [c for c in (*text, *OPTIONAL_COUNTS) if c not in frame.columns]
    columns = frame.columns
    frame = frame.with_columns(
        pl.lit(None, pl.String if c in text else pl.Int64).alias(c) for c in missing
    )
    todo = pl.col("cost").is_null()
    if not frame.select(todo.any()).item():
        return frame.select(columns)
    wanted = todo & ~pl.col("provider").is_in(SELF_HOSTED_PROVIDERS).fill_null(False)
    on = ["provider", "model", "_tier", "_day"]
    keyed = frame.with_columns(
        _tier=pl.col("service_tier").fill_null("standard"),
        _day=pl.col("ts").dt.date(),
        _wanted=wanted,
    )
    keys = keyed.filter(pl.col("_wanted")).select(on).unique()
    table = book.rate_table(keys.rename({"_tier": "service_tier", "_day": "day"}))
    table = table.rename({"service_tier": "_tier", "day": "_day"})
    joined = attach(keyed, table, on)
    levels = _levels(table)
    parts, unpriceable = [], []
    for component, count in component_tokens().items():
        price = _level_price(component, levels)
        parts.append(count.cast(TOKENS) * price.cast(PER_TOKEN))
        unpriceable.append((count > 0) & price.is_null())
    priceable = (
        pl.col("_wanted")
        & pl.col("_entry").is_not_null()
        & pl.col("_problem").is_null()
        & ~pl.any_horizontal(unpriceable)
    )
    cost = pl.when(priceable).then(pl.sum_horizontal(parts).round(10).cast(MONEY))
    result = joined.with_columns(_cost=pl.when(todo).then(cost).otherwise(pl.col("cost")))
    result = result.with_columns(
        cost_source=pl.when(~todo)
        .then(pl.col("cost_source"))
        .when(pl.col("_cost").is_not_null())
        .then(pl.lit("priced"))
        .otherwise(pl.lit("unpriced")),
        price_version=pl.when(todo).then(pl.lit(book.version)).otherwise(pl.col("price_version")),
        currency=pl.when(todo & pl.col("_cost").is_not_null())
        .then(pl.lit(book.currency))
        .otherwise(pl.col("currency")),
    ).with_columns(cost=pl.col("_cost"))
    return result.select(columns)


def explain_prices(frame: pl.DataFrame, book: PriceBook) -> pl.DataFrame:
    """Per (provider, model, service tier, day) of `frame`: the entry that prices it, each
    component's per-1M price at the base level, and why it cannot price (the `roi reconcile`
    list of unpriced usage and tests use it)."""
    keys = (
        frame.with_columns(
            service_tier=pl.col("service_tier").fill_null("standard")
            if "service_tier" in frame.columns
            else pl.lit("standard"),
            day=pl.col("ts").dt.date(),
        )
        .select(*KEYS)
        .unique()
    )
    table = book.rate_table(keys)
    return table.select(
        *KEYS,
        pl.col("_entry").alias("entry"),
        *[
            (pl.col(price_column(c, 0)) * 1_000_000).cast(pl.Float64).alias(f"{c}_per_1m")
            for c in COMPONENTS
        ],
        pl.when(pl.col("_entry").is_null())
        .then(pl.lit(f"no price for the model in {book.describe()}"))
        .otherwise(pl.col("_problem"))
        .alias("problem"),
    ).sort(*KEYS)


__all__ = ["component_tokens", "explain_prices", "price_usage"]
