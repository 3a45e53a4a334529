"""Value methods, one module each, found by the name a model's `[value] method` gives.

A method takes its typed option set (`roi.config.models`), the model's `ValueInputs` and the
project currency, and returns one row per month (`VALUE_ROWS`): the value, its interval (or
null with the reason), the volume it scales with, the evidence grade and the load ids of its
inputs. A month whose value cannot be computed (an input missing that month) is a row with a
null value and the reason, never a silent zero. Adding a method is one module here and one line
in `METHODS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from roi.value.inputs import ValueInputs

VALUE_ROWS: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "value": pl.Float64(),
    "value_low": pl.Float64(),
    "value_high": pl.Float64(),
    "interval_note": pl.String(),
    "volume": pl.Float64(),
    "unit": pl.String(),
    "currency": pl.String(),
    "evidence": pl.String(),
    "reason": pl.String(),
    "basis": pl.String(),
    "load_ids": pl.List(pl.String()),
}

Method = Callable[[Any, ValueInputs, str], pl.DataFrame]


# Method name → its module; imported when a model uses it (statsmodels takes a second to load).
METHODS = {
    "per_unit": "per_unit",
    "ab_uplift": "ab_uplift",
    "did": "did",
    "confusion_payoff": "confusion_payoff",
    "cost_savings": "cost_savings",
    "kpi_regression": "kpi_regression",
}


def method(name: str) -> Method:
    """The function of the value method `name`."""
    import importlib

    module = importlib.import_module(f"roi.value.methods.{METHODS[name]}")
    function: Method = module.value
    return function


def finish(frame: pl.DataFrame, needs: dict[str, str] | None = None) -> pl.DataFrame:
    """Method output in the shape of `VALUE_ROWS`, months in order.

    `needs` maps an input column to what it is (`"KPI transactions_scored"`); a month whose
    value is null gets the reason `no value: <the first missing input> for <month>`.
    """
    reason = pl.lit(None, pl.String)
    for column, what in reversed(list((needs or {}).items())):
        reason = (
            pl.when(pl.col(column).is_null())
            .then(
                pl.format(
                    "no value: no {} for {}", pl.lit(what), pl.col("month").dt.strftime("%Y-%m")
                )
            )
            .otherwise(reason)
        )
    if "reason" in frame.columns:
        reason = pl.col("reason").fill_null(reason)
    frame = frame.with_columns(
        reason=pl.when(pl.col("value").is_null())
        .then(reason.fill_null(pl.lit("no value: an input is missing for this month")))
        .otherwise(pl.lit(None, pl.String))
    )
    return frame.select(list(VALUE_ROWS)).cast(VALUE_ROWS).sort("month")  # type: ignore[arg-type]
