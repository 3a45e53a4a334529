"""The Costs section's figures: the month by model and cost type, by provider, the shared pools
and how they were split, GPU use per GPU pool and the trend by model, read once per report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl

from roi import warehouse
from roi.attribution.ledger import month_column
from roi.attribution.pool_bases.gpu_hours import gpu_pool_rules
from roi.reporting.data import ReportData, month_bounds, month_range
from roi.vocabulary import COST_TYPES, IDLE, IDLE_HELD, OTHER, UNALLOCATED

IDLE_LINES = [IDLE, IDLE_HELD]


def sentinels(data: ReportData) -> tuple[str, ...]:
    """The lines shown beside the models: idle, held-but-not-busy (where a pool keeps that line
    apart) and unallocated."""
    held = any(
        p.basis == "gpu_hours_utilization" and p.idle_held == "separate" for p in data.project.pools
    )
    return (IDLE, IDLE_HELD, UNALLOCATED) if held else (IDLE, UNALLOCATED)


@dataclass(frozen=True)
class Figures:
    """The month's cost tables."""

    by_model: pl.DataFrame  # model_id, one column per cost type, total, previous
    cost_types: list[str]
    providers: pl.DataFrame
    pools: pl.DataFrame
    gpu: pl.DataFrame  # per GPU pool: GPU-hours held, busy, idle, idle cost
    trend: pl.DataFrame  # month, model_id, amount
    source_total: Decimal
    usage: Decimal


def read_costs(data: ReportData) -> Figures:
    """Cost by model and type, providers, pool splits and GPU use for the month."""
    shown = [*data.model_ids, *sentinels(data)]
    # A report of some models still proves the month: the others are one row.
    fold = (
        pl.when(pl.col("model_id").is_in(shown)).then(pl.col("model_id")).otherwise(pl.lit(OTHER))
    )
    allocated = data.allocated.with_columns(model_id=fold)
    if data.options.models:
        shown.insert(len(data.model_ids), OTHER)
    month = allocated.filter(pl.col("month") == data.month)
    present = set(month["cost_type"])
    cost_types = [c for c in COST_TYPES if c in present] + sorted(present - set(COST_TYPES))
    by_model = _by_model(data, allocated, month, fold, shown, cost_types)
    providers = warehouse.fetch_frame(
        data.con,
        f"""SELECT provider, billing_account_id,
                  string_agg(DISTINCT invoice_id, ', ' ORDER BY invoice_id) AS invoices,
                  sum(billed_cost)::DOUBLE AS billed, sum(effective_cost)::DOUBLE AS effective,
                  count(*) AS lines
           FROM cost_lines WHERE {month_range(month_column(data.project.attribution))}
             AND billing_currency = ? GROUP BY ALL ORDER BY 1, 2""",
        [*month_bounds(data.month), data.currency],
    )
    pools = warehouse.fetch_frame(
        data.con,
        """SELECT b.rule_id, b.model_id, b.basis, b.unit, b.quantity, b.usage_quantity, b.share,
                  (SELECT sum(amount)::DOUBLE FROM allocated_costs a WHERE a.month = b.month
                     AND a.rule_id = b.rule_id AND a.model_id = b.model_id
                     AND a.currency = ?) AS amount
           FROM allocation_bases b WHERE b.month = ?
           ORDER BY b.rule_id, b.share DESC, b.model_id""",
        [data.currency, data.month],
    )
    gpu = _gpu_use(pools, gpu_pool_rules(data.project.pools))
    trend = allocated.group_by("month", "model_id").agg(pl.col("amount").sum().cast(pl.Float64))
    t = data.totals
    return Figures(by_model, cost_types, providers, pools, gpu, trend, t.source_total, t.usage)


def _by_model(
    data: ReportData,
    allocated: pl.DataFrame,
    month: pl.DataFrame,
    fold: pl.Expr,
    shown: list[str],
    cost_types: list[str],
) -> pl.DataFrame:
    """One row per model shown (then the sentinels): a column per cost type, priced usage,
    the total and the previous month's total; models by total, largest first."""
    wide = (
        month.group_by("model_id", "cost_type")
        .agg(pl.col("amount").sum())
        .pivot(on="cost_type", index="model_id", values="amount")
        if month.height
        else pl.DataFrame(schema={"model_id": pl.String})
    )
    usage = (
        warehouse.fetch_frame(
            data.con,
            "SELECT model_id, sum(amount) AS usage FROM usage_costs "
            "WHERE month = ? AND currency = ? "
            "GROUP BY 1",
            [data.month, data.currency],
        )
        .with_columns(model_id=fold)
        .group_by("model_id")
        .agg(pl.col("usage").sum())
    )
    before = data.previous if data.previous is not None else date.min  # none: no rows
    previous = (
        allocated.filter(pl.col("month") == before)
        .group_by("model_id")
        .agg(pl.col("amount").sum().alias("previous"))
    )
    base = pl.DataFrame({"model_id": shown})
    by_model = (
        base.join(wide, on="model_id", how="left")
        .join(usage, on="model_id", how="left")
        .join(previous, on="model_id", how="left")
    )
    for c in [*cost_types, "usage"]:
        if c not in by_model.columns:
            by_model = by_model.with_columns(pl.lit(Decimal(0)).alias(c))
    by_model = by_model.with_columns(
        pl.col(c).cast(pl.Float64).fill_null(0.0) for c in [*cost_types, "usage", "previous"]
    ).with_columns(total=pl.sum_horizontal([*cost_types, "usage"]))
    order = {m: i for i, m in enumerate(shown)}
    return (
        by_model.with_columns(
            sentinel=pl.col("model_id").is_in(list(sentinels(data))),
            rank=pl.col("model_id").replace_strict(order, default=0),
        )
        .sort(["sentinel", "total", "rank"], descending=[False, True, False])
        .drop("sentinel", "rank")
    )


def _gpu_use(pools: pl.DataFrame, gpu_rules: list[str]) -> pl.DataFrame:
    """Per GPU pool: GPU-hours held, busy and idle, their shares, and what idle cost."""
    workload = ~pl.col("model_id").is_in(IDLE_LINES)
    return (
        pools.filter(pl.col("rule_id").is_in(gpu_rules))
        .group_by("rule_id")
        .agg(
            held=pl.col("quantity").filter(workload).sum(),
            busy=pl.col("usage_quantity").filter(workload).sum(),
            idle_hours=pl.col("quantity").filter(pl.col("model_id") == IDLE).sum(),
            idle_cost=pl.col("amount").filter(pl.col("model_id") == IDLE).sum(),
            held_idle_hours=pl.col("quantity").filter(pl.col("model_id") == IDLE_HELD).sum(),
            held_idle_cost=pl.col("amount").filter(pl.col("model_id") == IDLE_HELD).sum(),
            total_cost=pl.col("amount").sum(),
        )
        .with_columns(
            capacity=pl.col("held") + pl.col("idle_hours"),
        )
        .with_columns(
            held_share=pl.col("held") / pl.col("capacity"),
            busy_share=pl.col("busy") / pl.col("capacity"),
        )
    )
