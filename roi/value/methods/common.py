"""Pieces several value methods share: the unit value in force and the currency it is in."""

from __future__ import annotations

import re
from datetime import date

import polars as pl

from roi.config.typed import check
from roi.value.inputs import ValueInputs

CURRENCY = re.compile(r"^[A-Z]{3}$")

# Option checks the methods share.
SHARE = check(lambda v: 0 < v < 1, "a share between 0 and 1, e.g. 0.9")
NOT_NEGATIVE = check(lambda v: v >= 0, "a number of at least 0")
# What one unit of the KPI is worth: a negative worth would turn every gain into a loss; a KPI
# where less is better says so (`lower_is_better`, or `cost_savings` against a baseline).
UNIT_VALUE = check(
    lambda v: v is None or v >= 0,
    "a worth of at least 0 per unit (for a KPI where less is better, use lower_is_better or "
    "the cost_savings method)",
    "is negative",
)


def with_unit_values(
    frame: pl.DataFrame,
    inputs: ValueInputs,
    kpi: str | None,
    constant: float | None,
    currency: str,
) -> pl.DataFrame:
    """`frame` with each month's `unit_value`, its `currency` and `unit_load` (its load id).

    A unit value KPI whose unit is a currency code (USD, EUR) is in that currency; otherwise,
    and for a constant, the project's.
    """
    months = frame["month"].to_list()
    return frame.join(_unit_values(inputs, months, kpi, constant, currency), on="month", how="left")


def join_series(
    frame: pl.DataFrame,
    inputs: ValueInputs,
    kpi: str | None,
    key: str,
    name: str,
    default: pl.Expr,
) -> pl.DataFrame:
    """`frame` with a KPI's monthly series as `name` (and `<name>_load_ids`), or `default`
    where the model declares no such KPI."""
    if kpi is None:
        return frame.with_columns(
            default.alias(name), pl.lit(None, pl.List(pl.String)).alias(f"{name}_load_ids")
        )
    series = inputs.series(kpi, key).rename({"value": name, "load_ids": f"{name}_load_ids"})
    return frame.join(series, on="month", how="left")


def _unit_values(
    inputs: ValueInputs,
    months: list[date],
    kpi: str | None,
    constant: float | None,
    currency: str,
) -> pl.DataFrame:
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


def unit_value_need(kpi: str | None) -> dict[str, str]:
    """The `finish` needs entry of a unit value (a constant is never missing)."""
    return (
        {"unit_value": f"unit value {kpi} in force (approved in or before the month)"}
        if kpi
        else {}
    )


def load_ids(*columns: str) -> pl.Expr:
    """The distinct, sorted load ids of list and text columns."""
    empty = pl.lit([], pl.List(pl.String))
    parts = [
        pl.col(c).fill_null(empty) if c.endswith("load_ids") else pl.concat_list(pl.col(c))
        for c in columns
    ]
    return pl.concat_list(parts).list.drop_nulls().list.unique().list.sort().alias("load_ids")
