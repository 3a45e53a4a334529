"""The bases a shared pool is split by, per month: who used how much of it. One module per
family of bases, each registering its bases by name (`register`); `weights` dispatches.

Each basis returns one row per (month, target) with a weight, where a target is a model, the
pool's idle capacity (`__idle__`; `__idle_held__` for GPU-hours held but not busy), or usage no
model's selectors claim (`__unallocated__`, with the reason). GPU bases come from `gpu_usage`,
token bases from `inference_usage`, the others from the project's definitions or the direct
stage. Adding a basis is one module here (and its name in `roi.vocabulary.PoolBasis`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from roi.attribution.ledger import MonthFilter
from roi.config import EngineSettings, ModelConfig, PoolConfig
from roi.plugins import import_modules
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


@dataclass(frozen=True)
class BasisRequest:
    """What a basis may read to weigh a pool's month(s)."""

    con: Connection
    pool: PoolConfig
    models: tuple[ModelConfig, ...]
    allocated: pl.DataFrame  # the direct stage's rows (for `direct_cost`)
    month: MonthFilter
    months: list[date]
    engine: EngineSettings | None = None  # where usage is folded (default: DuckDB on `con`)


Weigh = Callable[[BasisRequest], pl.DataFrame]
_REGISTRY: dict[str, Weigh] = {}


def register(*names: str) -> Callable[[Weigh], Weigh]:
    """Decorator: the function weighs pools of these bases."""

    def add(function: Weigh) -> Weigh:
        for name in names:
            _REGISTRY[name] = function
        return function

    return add


def weights(request: BasisRequest) -> pl.DataFrame:
    """The pool's weights per month (and currency, for `direct_cost`)."""
    import_modules(__name__, __path__)
    return _REGISTRY[request.pool.basis](request)


def finish(frame: pl.DataFrame, unit: str) -> pl.DataFrame:
    """Weights in `WEIGHTS_SCHEMA`, with their unit."""
    out = frame.with_columns(currency=pl.lit(None, pl.String), unit=pl.lit(unit))
    return out.select(list(WEIGHTS_SCHEMA)).cast(WEIGHTS_SCHEMA)  # type: ignore[arg-type]
