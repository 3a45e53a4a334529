"""The attribution engine: stages over the ledger, conservation checked after each, one write.

`plan_attribution` reads the warehouse (a read-only connection is enough) and computes every
table; `write_attribution` replaces them (all months, or the one planned) in one transaction.
After every stage, per month and currency, the allocated rows plus the ledger groups still left
must equal the source total exactly (DECIMAL, effective and billed); otherwise attribution stops
with an error and nothing is written.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl

from roi import warehouse
from roi.attribution.amortize import amortize
from roi.attribution.incremental import MonthsToAttribute, months_to_attribute
from roi.attribution.ledger import MonthFilter, fold_lines, month_sql, tag_keys
from roi.attribution.rules import (
    ALLOCATION_SCHEMA,
    ASSIGNED_SCHEMA,
    BASES_SCHEMA,
    CONFLICT_SCHEMA,
    UNALLOCATED_SCHEMA,
    StageContext,
    empty,
    stages,
)
from roi.attribution.usage import unbilled_usage
from roi.config import AttributionSettings, EngineSettings, ModelConfig, PoolConfig
from roi.errors import RoiError
from roi.portfolio import sync_portfolio
from roi.progress import SILENT, Progress
from roi.vocabulary import UNALLOCATED
from roi.warehouse import Connection

OUTPUT_TABLES = (
    "allocated_costs",
    "attribution_conflicts",
    "unallocated_costs",
    "allocation_bases",
    "usage_costs",
)


class ConservationError(RoiError):
    """A stage lost or invented money: attribution stops before writing anything."""


@dataclass(frozen=True)
class AttributionResult:
    """Summary of one attribution run."""

    attribution_id: str
    months: list[date]  # the months recomputed
    lines: int
    allocated_rows: int
    conflicts: int
    unallocated_amount: float
    unchanged_months: int = 0  # months left as they were: inputs and rules unchanged
    warnings: tuple[str, ...] = ()  # rules and data that count without a visible effect


@dataclass(frozen=True)
class AttributionPlan:
    """Attribution tables computed from the warehouse, not yet written."""

    attribution_id: str
    started: datetime
    month: MonthFilter  # the months planned (None: all)
    models: tuple[ModelConfig, ...]
    allocated: pl.DataFrame
    conflicts: pl.DataFrame
    unallocated: pl.DataFrame
    bases: pl.DataFrame
    usage: pl.DataFrame  # priced LLM usage with no bill behind it (usage_costs)
    amortized: pl.DataFrame
    months: list[date]
    load_ids: list[str]
    lines: int
    ledger: pl.DataFrame  # the line groups, with the model (or pool) rule that took each


def _totals(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by("month", "currency").agg(
        pl.col("amount").sum().alias("amount"), pl.col("billed_amount").sum().alias("billed")
    )


def check_conservation(
    source: pl.DataFrame, allocated: pl.DataFrame, left: pl.DataFrame, stage: str
) -> None:
    """Allocated + left = source, per month and currency, exactly (effective and billed).

    Raises:
        ConservationError: naming the stage, the month and the difference.
    """
    accounted = _totals(pl.concat([allocated.select(_KEYS), left.select(_KEYS)]))
    compared = source.join(
        accounted, on=["month", "currency"], how="full", coalesce=True, suffix="_now"
    )
    for row in compared.iter_rows(named=True):
        for column in ("amount", "billed"):
            before = row[column] or 0
            after = row[f"{column}_now"] or 0
            if before != after:
                raise ConservationError(
                    f"attribution stage {stage!r} does not conserve {row['currency']} cost of "
                    f"{row['month']:%Y-%m}: source {before} vs {after} accounted for "
                    f"({column}); nothing was written — report this with the project's files"
                )


_KEYS = ["month", "currency", "amount", "billed_amount"]


def plan_attribution(
    con: Connection,
    models: tuple[ModelConfig, ...],
    settings: AttributionSettings,
    month: MonthFilter = None,
    pools: tuple[PoolConfig, ...] = (),
    quantities: bool = False,
    engine: EngineSettings | None = None,
) -> AttributionPlan:
    """Run every stage over the ledger (all months, one, or several); reads only.

    `quantities` keeps units and quantities in the ledger (for `roi explain`); `engine` is
    where the billing lines are folded into the ledger and the LLM requests into usage
    (default: DuckDB, on `con`).

    Raises:
        ConservationError: a stage did not conserve cost (nothing is written).
    """
    started = datetime.now(UTC)
    attribution_id = started.strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]
    ledger = fold_lines(con, tag_keys(models, pools, settings), settings, month, quantities, engine)
    source = _totals(ledger)
    allocated = empty(ALLOCATION_SCHEMA)
    details = [empty(UNALLOCATED_SCHEMA)]
    conflicts = [empty(CONFLICT_SCHEMA)]
    bases = [empty(BASES_SCHEMA)]
    assignments = [empty(ASSIGNED_SCHEMA)]
    left = ledger
    for name, stage in stages():
        result = stage(left, StageContext(con, models, pools, settings, month, allocated, engine))
        allocated = pl.concat([allocated, result.allocations])
        left = left.filter(~pl.col("group_id").is_in(result.taken.implode()))
        check_conservation(source, allocated, left, name)
        details.append(result.unallocated)
        conflicts.append(result.conflicts)
        bases.append(result.bases)
        assignments.append(result.assigned)
    usage = unbilled_usage(con, models, pools, settings, month, engine, ledger)
    stamp = pl.lit(attribution_id).alias("attribution_id")
    final = (
        allocated.group_by(
            "month", "model_id", "cost_type", "basis", "rule_id", "provider", "currency"
        )
        .agg(
            pl.col("amount").sum(),
            pl.col("billed_amount").sum(),
            pl.col("line_count").sum().cast(pl.Int64),
            pl.col("load_ids").explode().drop_nulls().unique().sort(),
        )
        .sort("month", "model_id", "cost_type", "rule_id", "provider", "currency")
        .with_columns(stamp)
    )
    return AttributionPlan(
        attribution_id=attribution_id,
        started=started,
        month=month,
        models=models,
        allocated=final,
        conflicts=pl.concat(conflicts).with_columns(stamp),
        unallocated=pl.concat(details).with_columns(stamp),
        bases=pl.concat(bases).with_columns(stamp),
        usage=usage.with_columns(stamp),
        amortized=amortize(final, models).with_columns(stamp),
        months=sorted(set(ledger["month"].to_list()) | set(usage["month"].to_list())),
        load_ids=sorted(set(ledger["load_ids"].explode().drop_nulls().to_list())),
        lines=int(ledger["line_count"].sum() or 0),
        ledger=ledger.join(pl.concat(assignments), on="group_id", how="left"),
    )


def write_attribution(
    con: Connection,
    plan: AttributionPlan,
    progress: Progress = SILENT,
    selection: MonthsToAttribute | None = None,
) -> AttributionResult:
    """Replace the attribution tables (all months, or the plan's months) in one transaction.

    With `selection`, the fingerprints of the months written are recorded for the next
    incremental run.
    """
    with warehouse.transaction(con):
        replace_attribution(con, plan, selection)
    return attribution_result(plan, progress, selection)


def replace_attribution(
    con: Connection, plan: AttributionPlan, selection: MonthsToAttribute | None = None
) -> None:
    """Replace the attribution tables with the plan's rows, inside the caller's transaction
    (so that the tables derived from them can change in the same one)."""
    sync_portfolio(con, plan.models)
    for table in (*OUTPUT_TABLES, "_attributed_months"):
        where, params = month_sql("month", plan.month)
        warehouse.execute(con, f"DELETE FROM {table} WHERE {where}", params)
    where, params = month_sql("incurred_month", plan.month)
    warehouse.execute(con, f"DELETE FROM amortized_costs WHERE {where}", params)
    if selection is not None:
        written = [m for m in plan.months if m in selection.inputs]
        for m in written:
            warehouse.execute(
                con,
                "INSERT INTO _attributed_months VALUES (?, ?, ?, ?)",
                [m, selection.inputs[m], selection.rules, plan.attribution_id],
            )
    outputs = (
        plan.allocated,
        plan.conflicts,
        plan.unallocated,
        plan.bases,
        plan.usage,
        plan.amortized,
    )
    for name, frame in zip((*OUTPUT_TABLES, "amortized_costs"), outputs, strict=True):
        if frame.height:
            with warehouse.registered(con, "_new_rows", frame):
                warehouse.execute(con, f"INSERT INTO {name} BY NAME SELECT * FROM _new_rows")
    warehouse.execute(
        con,
        "INSERT INTO _attributions VALUES (?, ?, ?, ?, ?, ?)",
        [
            plan.attribution_id,
            plan.started,
            datetime.now(UTC),
            json.dumps([m.isoformat() for m in plan.months]),
            plan.lines,
            json.dumps(plan.load_ids),
        ],
    )


def attribution_result(
    plan: AttributionPlan,
    progress: Progress = SILENT,
    selection: MonthsToAttribute | None = None,
) -> AttributionResult:
    """What a written plan did, reported on `progress`."""
    unallocated = plan.allocated.filter(pl.col("model_id") == UNALLOCATED)["amount"].sum()
    progress.info(
        f"attribution {plan.attribution_id}: {plan.lines:,} cost line(s) in "
        f"{len(plan.months)} month(s) → {plan.allocated.height} allocated row(s), "
        f"{plan.conflicts.height} conflict(s)"
    )
    return AttributionResult(
        attribution_id=plan.attribution_id,
        months=plan.months,
        lines=plan.lines,
        allocated_rows=plan.allocated.height,
        conflicts=plan.conflicts.height,
        unallocated_amount=float(unallocated or 0),
        unchanged_months=selection.unchanged if selection else 0,
    )


def attribute_costs(
    con: Connection,
    models: tuple[ModelConfig, ...],
    settings: AttributionSettings,
    month: date | None = None,
    progress: Progress = SILENT,
    pools: tuple[PoolConfig, ...] = (),
    full: bool = True,
) -> AttributionResult:
    """Rebuild the attribution tables from `cost_lines` on one connection.

    All months (or the one given); with `full=False`, only the months whose inputs or rules
    changed since they were last attributed.
    """
    selection = months_to_attribute(con, models, pools, settings, month, full)
    if selection.months == ():
        return up_to_date(selection)
    plan = plan_attribution(con, models, settings, selection.months, pools)
    return write_attribution(con, plan, progress, selection)


def up_to_date(selection: MonthsToAttribute) -> AttributionResult:
    """The result of a run that found every month's inputs and rules unchanged."""
    return AttributionResult(
        attribution_id="",
        months=[],
        lines=0,
        allocated_rows=0,
        conflicts=0,
        unallocated_amount=0.0,
        unchanged_months=selection.unchanged,
    )
