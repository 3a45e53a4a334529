"""`direct_cost`: each model's direct cost that month, in the same currency."""

from __future__ import annotations

import polars as pl

from roi.attribution.pool_bases import WEIGHTS_SCHEMA, BasisRequest, register


@register("direct_cost")
def direct_cost_weights(request: BasisRequest) -> pl.DataFrame:
    """`direct_cost` pools: each model's direct cost that month, in the same currency."""
    pool, allocated = request.pool, request.allocated
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
