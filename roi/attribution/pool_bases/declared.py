"""`even` and `fixed`: weights the pool declares, the same every month."""

from __future__ import annotations

import polars as pl

from roi.attribution.pool_bases import BasisRequest, finish, register


@register("even", "fixed")
def declared_weights(request: BasisRequest) -> pl.DataFrame:
    """`even` and `fixed` pools: the same declared weights every month."""
    pool, months = request.pool, request.months
    shares = dict(pool.shares) if pool.basis == "fixed" else dict.fromkeys(pool.models, 1.0)
    rows = [
        {"month": m, "target": t, "reason": None, "weight": w, "quantity": w, "usage_quantity": w}
        for m in months
        for t, w in shares.items()
    ]
    return finish(
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
