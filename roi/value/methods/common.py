"""Pieces several value methods share: the unit value in force and the currency it is in."""

from __future__ import annotations

import re
from datetime import date

import polars as pl

from roi.value.inputs import ValueInputs

CURRENCY = re.compile(r"^[A-Z]{3}$")


def unit_values(
    inputs: ValueInputs,
    months: list[date],
    kpi: str | None,
    constant: float | None,
    currency: str,
) -> pl.DataFrame:
    """Per month: `unit_value`, its `currency` and the load id it came from (null: a constant).

    A unit value KPI whose unit is a currency code (USD, EUR) is in that currency; otherwise,
    and for a constant, the project's.
    """
    frame = pl.DataFrame({"month": months}, schema={"month": pl.Date})
    if kpi is None:
        return frame.with_columns(
            unit_value=pl.lit(constant if constant is not None else 1.0),
            currency=pl.lit(currency),
            unit_load=pl.lit(None, pl.String),
        )
    values = inputs.unit_values(kpi, "value.unit_value_kpi", months)
    return values.select(
        "month",
        "unit_value",
        pl.when(pl.col("unit").str.contains(CURRENCY.pattern))
        .then(pl.col("unit"))
        .otherwise(pl.lit(currency))
        .alias("currency"),
        pl.col("_load_id").alias("unit_load"),
    )


def load_ids(*columns: str) -> pl.Expr:
    """The distinct, sorted load ids of list and text columns."""
    empty = pl.lit([], pl.List(pl.String))
    parts = [
        pl.col(c).fill_null(empty) if c.endswith("load_ids") else pl.concat_list(pl.col(c))
        for c in columns
    ]
    return pl.concat_list(parts).list.drop_nulls().list.unique().list.sort().alias("load_ids")
