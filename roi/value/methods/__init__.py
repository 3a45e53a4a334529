"""Value methods, one module each, found by the name a model's `[value] method` gives.

A method takes its typed option set, the model's `ValueInputs` and the
project currency, and returns one row per month (`VALUE_ROWS`): the value, its interval (or
null with the reason), the volume it scales with, the evidence grade and the load ids of its
inputs. A month whose value cannot be computed (an input missing that month) is a row with a
null value and the reason, never a silent zero.

Each method is one module holding its option set (a frozen dataclass: the keys a model's
`[value]` may hold, with their types) and its function, registered with `register(Method(...))`;
adding a method is one module in this package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import polars as pl

from roi.config import ModelConfig
from roi.config.typed import build
from roi.errors import ConfigError
from roi.plugins import import_modules
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

Compute = Callable[[Any, ValueInputs, str], pl.DataFrame]


@dataclass(frozen=True)
class Driven:
    """What a model's quality metric drives, for `kpi_sensitivity`: the KPI, a volume control,
    and the unit value (a KPI or a constant)."""

    kpi: str
    volume_kpi: str | None = None
    unit_value_kpi: str | None = None
    unit_value: float | None = None


@dataclass(frozen=True)
class Method:
    """One value method: its name, its option set (checked against a model's `[value]`), its
    function, and what the metric drives under it (None: no KPI series to regress)."""

    name: str
    options: type[Any]
    compute: Compute
    drives: Callable[[Any], Driven | None] = field(default=lambda _options: None)


_REGISTRY: dict[str, Method] = {}
_HELPERS = ("common",)  # modules of this package that are not methods


def register(method: Method) -> Method:
    """Add a value method to the registry (a method module calls it on import)."""
    _REGISTRY[method.name] = method
    return method


def methods() -> Mapping[str, Method]:
    """Every value method by name (each module of this package registers one on import)."""
    import_modules(__name__, __path__, _HELPERS)
    return MappingProxyType(dict(sorted(_REGISTRY.items())))


def resolve(model: ModelConfig) -> tuple[Method, Any]:
    """The method a model's `[value]` names, and its options checked against its option set.

    Raises:
        ConfigError: no such method (naming the allowed ones), an unknown key, a value of the
            wrong type, or both `unit_value_kpi` and `unit_value`; naming the model's file.
    """
    assert model.value is not None
    known = methods()
    found = known.get(model.value.method)
    if found is None:
        raise ConfigError(
            f"{model.file}: key 'value.method' is {model.value.method!r}; allowed values: "
            f"{', '.join(known)}"
        )
    options = build(found.options, model.value.options, model.file, "value.")
    if (
        getattr(options, "unit_value_kpi", None)
        and getattr(options, "unit_value", None) is not None
    ):
        raise ConfigError(
            f"{model.file}: keys 'value.unit_value_kpi' and 'value.unit_value' both set; keep "
            "one (a KPI from the finance workbook, or a constant)"
        )
    return found, options


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
