"""Unused commitments: savings-plan or reservation hours nobody used are idle capacity.

FOCUS marks them `CommitmentDiscountStatus = Unused`. They go to `__idle__` (cost type
`commitment_unused`) as their own line, so the price of over-committing is visible instead of
hiding in unallocated cost. (GPU capacity no workload held is idle too; the pool that splits a
GPU cluster produces that line.)
"""

from __future__ import annotations

import polars as pl

from roi.attribution.rules import StageContext, StageResult, assignments_of, register, whole_groups
from roi.vocabulary import IDLE


@register("idle", 30)
def run(ledger: pl.DataFrame, ctx: StageContext) -> StageResult:
    """Take every unused-commitment group left."""
    unused = ledger.filter(pl.col("commitment_discount_status") == "Unused")
    rule = pl.lit("idle:commitment_unused")
    allocations = whole_groups(unused, pl.lit(IDLE), "idle", rule)
    return StageResult(
        allocations, unused["group_id"], assigned=assignments_of(unused, pl.lit(IDLE), rule)
    )
