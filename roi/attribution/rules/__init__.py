"""Attribution rule kinds (stages), one module each, registered with their order and run in
order over the ledger.

Each stage takes the line groups the stages before it left, writes allocation rows with its own
`basis` and `rule_id`, and leaves the rest: `direct` (each model's selectors) → `pools` (shared
cost split by a basis, GPU idle capacity included) → `idle` (unused commitments) → `remainder`
(`__unallocated__`, with a reason). The engine checks after every stage that allocated plus
what is left equals the source, per month and currency, to the last decimal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from roi import tables
from roi.attribution.ledger import MonthFilter
from roi.config import AttributionSettings, EngineSettings, ModelConfig, PoolConfig
from roi.plugins import import_modules
from roi.warehouse import Connection

STAMP = ("attribution_id",)  # added to every row when the plan is complete
ALLOCATION_SCHEMA = tables.ALLOCATED_COSTS.polars_schema(exclude=STAMP)
UNALLOCATED_SCHEMA = tables.UNALLOCATED_COSTS.polars_schema(exclude=STAMP)
CONFLICT_SCHEMA = tables.ATTRIBUTION_CONFLICTS.polars_schema(exclude=STAMP)
BASES_SCHEMA = tables.ALLOCATION_BASES.polars_schema(exclude=STAMP)


ASSIGNED_SCHEMA: dict[str, pl.DataType] = {
    "group_id": pl.UInt32(),
    "model_id": pl.String(),
    "rule_id": pl.String(),
}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A frame with `schema` and no rows."""
    return pl.DataFrame(schema=schema)


@dataclass(frozen=True)
class StageContext:
    """What every stage may read: the project's rules, the warehouse, what earlier stages did."""

    con: Connection
    models: tuple[ModelConfig, ...]
    pools: tuple[PoolConfig, ...]
    settings: AttributionSettings
    month: MonthFilter
    allocated: pl.DataFrame  # allocation rows of the stages before
    engine: EngineSettings | None = None  # where usage is folded (default: DuckDB on `con`)


@dataclass(frozen=True)
class StageResult:
    """What one stage did: rows it allocated and the ledger groups it used up."""

    allocations: pl.DataFrame
    taken: pl.Series  # group ids fully taken
    unallocated: pl.DataFrame = field(default_factory=lambda: empty(UNALLOCATED_SCHEMA))
    conflicts: pl.DataFrame = field(default_factory=lambda: empty(CONFLICT_SCHEMA))
    bases: pl.DataFrame = field(default_factory=lambda: empty(BASES_SCHEMA))
    # Which rule took each group (model_id null for a pool, which splits it): for `roi explain`.
    assigned: pl.DataFrame = field(default_factory=lambda: empty(ASSIGNED_SCHEMA))


Stage = Callable[[pl.DataFrame, StageContext], StageResult]


_STAGES: dict[str, tuple[int, Stage]] = {}
_HELPERS = ("common",)  # modules of this package that are not stages


def register(name: str, order: int) -> Callable[[Stage], Stage]:
    """Decorator: the function is the stage `name`, run at `order` (lower first)."""

    def add(stage: Stage) -> Stage:
        _STAGES[name] = (order, stage)
        return stage

    return add


def stages() -> list[tuple[str, Stage]]:
    """The stages, in the order they run (each module of this package registers one)."""
    import_modules(__name__, __path__, _HELPERS)
    return [(name, stage) for name, (_, stage) in sorted(_STAGES.items(), key=lambda s: s[1][0])]


def assignments_of(groups: pl.DataFrame, model_id: pl.Expr, rule_id: pl.Expr) -> pl.DataFrame:
    """Which model and rule took each of `groups`."""
    picked = groups.select("group_id", model_id.alias("model_id"), rule_id.alias("rule_id"))
    return picked.cast(ASSIGNED_SCHEMA)  # type: ignore[arg-type]


def whole_groups(
    groups: pl.DataFrame, model_id: pl.Expr, basis: str, rule_id: pl.Expr
) -> pl.DataFrame:
    """Allocation rows for groups taken whole, summed to the allocation grain."""
    return (
        groups.with_columns(model_id=model_id, basis=pl.lit(basis), rule_id=rule_id)
        .group_by("month", "model_id", "cost_type", "basis", "rule_id", "provider", "currency")
        .agg(
            pl.col("amount").sum(),
            pl.col("billed_amount").sum(),
            pl.col("line_count").sum().cast(pl.Int64),
            pl.col("load_ids").explode().drop_nulls().unique().sort(),
        )
        .select(list(ALLOCATION_SCHEMA))
        .cast(ALLOCATION_SCHEMA)  # type: ignore[arg-type]
    )


def conflict_rows(groups: pl.DataFrame) -> pl.DataFrame:
    """`attribution_conflicts` rows for groups several rules matched (`matched`, `winner`)."""
    return (
        groups.group_by("month", "provider", "resource_id", "matched", "winner")
        .agg(pl.col("amount").sum(), pl.col("line_count").sum().cast(pl.Int64))
        .rename({"matched": "matched_models", "winner": "chosen_model"})
        .select(list(CONFLICT_SCHEMA))
    )
