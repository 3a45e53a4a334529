"""Shared pools: claim what direct selectors left (a cluster tag, an account, a service) and
split it to models by the pool's basis; GPU capacity no workload held goes to `__idle__`, and
(under `gpu_hours_utilization`) GPU-hours held but not busy to `__idle_held__`.

Splits are exact: each month's pool cost (per provider, currency and cost type) is divided by
largest remainder in units of 1e-10, so the parts add up to the whole. A month whose basis has
no usage keeps the pool's cost as `__unallocated__` with the reason.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from roi.attribution.pool_bases import BasisRequest
from roi.attribution.pool_bases import weights as pool_weights
from roi.attribution.rules import (
    ALLOCATION_SCHEMA,
    BASES_SCHEMA,
    UNALLOCATED_SCHEMA,
    StageContext,
    StageResult,
    assignments_of,
    conflict_rows,
    empty,
    register,
)
from roi.attribution.selectors import Candidate, match
from roi.attribution.split import split_amount
from roi.config import PoolConfig
from roi.vocabulary import IDLE, IDLE_HELD, UNALLOCATED

ZERO = Decimal(0)


def claim(pool: PoolConfig) -> Candidate:
    """The pool's claims as a selector candidate."""
    c = pool.claims
    return Candidate(
        pool.rule_id,
        0,
        pool.priority,
        tags=c.tags,
        resource_ids=c.resource_ids,
        sub_accounts=c.sub_accounts,
        services=c.services,
    )


def _unallocated_detail(
    key: dict[str, object], cost_type: str, reason: str, amount: Decimal
) -> dict[str, object]:
    """An `unallocated_costs` row for pool cost no model took, with the reason."""
    return {
        "month": key["month"],
        "provider": key["provider"],
        "service_name": None,
        "resource_id": None,
        "cost_type": cost_type,
        "reason": reason,
        "currency": key["currency"],
        "amount": amount,
        "line_count": key["line_count"],
    }


def _target_rows(
    pool: PoolConfig, key: dict[str, object], weights: pl.DataFrame
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Allocation and unallocated-detail rows for one month's pool cost of one kind."""
    amount = key["amount"]
    billed = key["billed_amount"]
    assert isinstance(amount, Decimal) and isinstance(billed, Decimal)
    month = key["month"]
    assert isinstance(month, date)
    base = {
        "month": month,
        "provider": key["provider"],
        "currency": key["currency"],
        "line_count": key["line_count"],
        "load_ids": key["load_ids"],
    }
    applicable = weights.filter(
        (pl.col("month") == month)
        & (pl.col("currency").is_null() | (pl.col("currency") == key["currency"]))
        & (pl.col("weight") > 0)
    )
    if not applicable.height:
        reason = f"pool {pool.pool_id}: no usage in {month:%Y-%m}"
        row = {
            **base,
            "model_id": UNALLOCATED,
            "cost_type": key["cost_type"],
            "basis": "unallocated",
            "rule_id": pool.rule_id,
            "amount": amount,
            "billed_amount": billed,
        }
        return [row], [_unallocated_detail(key, str(key["cost_type"]), reason, amount)]
    # One weight per target; unallocated usage keeps one target per reason.
    labels = [
        t if t != UNALLOCATED else f"{UNALLOCATED}\x1f{r}"
        for t, r in zip(applicable["target"], applicable["reason"], strict=True)
    ]
    weights_by = dict(zip(labels, applicable["weight"].to_list(), strict=True))
    parts = split_amount(amount, weights_by)
    billed_parts = split_amount(billed, weights_by)
    rows: list[dict[str, object]] = []
    details: list[dict[str, object]] = []
    for label, part in parts.items():
        target, _, reason = label.partition("\x1f")
        if target in (IDLE, IDLE_HELD):
            basis, cost_type = "idle", "idle_gpu"
        elif target == UNALLOCATED:
            basis, cost_type = "unallocated", str(key["cost_type"])
        else:
            basis, cost_type = "shared", pool.cost_type or str(key["cost_type"])
        rows.append(
            {
                **base,
                "model_id": target,
                "cost_type": cost_type,
                "basis": basis,
                "rule_id": pool.rule_id,
                "amount": part,
                "billed_amount": billed_parts[label],
            }
        )
        if target == UNALLOCATED:
            details.append(_unallocated_detail(key, cost_type, reason, part))
    return rows, details


@register("pools", 20)
def run(ledger: pl.DataFrame, ctx: StageContext) -> StageResult:
    """Take every group a pool claims and split it by the pool's basis."""
    pools = sorted(ctx.pools, key=lambda p: (p.priority, p.pool_id))
    matches = match(ledger, [claim(p) for p in pools])
    claimed = ledger.join(matches, on="group_id", how="inner")
    rows: list[dict[str, object]] = []
    details: list[dict[str, object]] = []
    bases: list[pl.DataFrame] = []
    months = sorted(ledger["month"].unique().to_list())
    for pool in pools:
        mine = claimed.filter(pl.col("winner") == pool.rule_id)
        if not mine.height:
            continue
        weights = pool_weights(
            BasisRequest(ctx.con, pool, ctx.models, ctx.allocated, ctx.month, months, ctx.engine)
        )
        used_months = sorted(mine["month"].unique().to_list())
        bases.append(_bases(pool, weights.filter(pl.col("month").is_in(used_months))))
        kinds = mine.group_by("month", "provider", "currency", "cost_type").agg(
            pl.col("amount").sum(),
            pl.col("billed_amount").sum(),
            pl.col("line_count").sum().cast(pl.Int64),
            pl.col("load_ids").explode().drop_nulls().unique().sort(),
        )
        for key in kinds.sort("month", "provider", "currency", "cost_type").iter_rows(named=True):
            new_rows, new_details = _target_rows(pool, key, weights)
            rows += new_rows
            details += new_details
    allocations = pl.DataFrame(rows, schema=ALLOCATION_SCHEMA) if rows else empty(ALLOCATION_SCHEMA)
    # Pools that overlap on purpose say so by priority; only a tie is a conflict.
    conflicts = conflict_rows(claimed.filter(pl.col("tied")))
    return StageResult(
        allocations,
        claimed["group_id"],
        unallocated=pl.DataFrame(details, schema=UNALLOCATED_SCHEMA)
        if details
        else empty(UNALLOCATED_SCHEMA),
        conflicts=conflicts,
        bases=pl.concat(bases) if bases else empty(BASES_SCHEMA),
        assigned=assignments_of(claimed, pl.lit(None, pl.String), pl.col("winner")),
    )


def _bases(pool: PoolConfig, weights: pl.DataFrame) -> pl.DataFrame:
    """The basis each model was split by, as `allocation_bases` rows."""
    # Sorted first: float sums in a fixed order give the same share whatever else was planned.
    grouped = (
        weights.sort("month", "target", "unit", "currency", "reason", nulls_last=True)
        .group_by("month", "target", "unit", maintain_order=True)
        .agg(pl.col("quantity").sum(), pl.col("usage_quantity").sum(), pl.col("weight").sum())
        .sort("month", "target", "unit")
    )
    return (
        grouped.with_columns(
            share=pl.col("weight") / pl.col("weight").sum().over("month"),
            rule_id=pl.lit(pool.rule_id),
            basis=pl.lit(pool.basis),
        )
        .rename({"target": "model_id"})
        .select(list(BASES_SCHEMA))
        .cast(BASES_SCHEMA)  # type: ignore[arg-type]
    )
