"""The remainder: what no rule placed goes to `__unallocated__`, with the reason.

Nothing is dropped: every group left after the other stages is allocated here, and the
unallocated detail (month × resource × reason) is the worklist for tags, selectors and pools.
"""

from __future__ import annotations

import polars as pl

from roi.attribution.ledger import tag_column
from roi.attribution.rules import (
    UNALLOCATED_SCHEMA,
    StageContext,
    StageResult,
    assignments_of,
    register,
    whole_groups,
)
from roi.vocabulary import UNALLOCATED, UNMATCHED_RULE

NOT_A_RESOURCE = ("Tax", "Credit", "Adjustment", "Purchase")


def reason_expr(model_tag_keys: list[str]) -> pl.Expr:
    """Why a group is unallocated, from what it carries."""
    tagged_for_model = (
        pl.any_horizontal(pl.col(tag_column(k)).is_not_null() for k in model_tag_keys)
        if model_tag_keys
        else pl.lit(False)
    )
    return (
        pl.when(pl.col("charge_category").is_in(NOT_A_RESOURCE))
        .then(
            pl.lit("not a resource charge (")
            + pl.col("charge_category").str.to_lowercase()
            + pl.lit(")")
        )
        .when(tagged_for_model)
        .then(pl.lit("model tag value matches no model"))
        .when(pl.col("untagged"))
        .then(pl.lit("untagged"))
        .otherwise(pl.lit("tagged, but no model selector or pool matches"))
        .alias("reason")
    )


@register("remainder", 40)
def run(ledger: pl.DataFrame, ctx: StageContext) -> StageResult:
    """Take every group left."""
    keys = sorted({k for m in ctx.models for k in m.selectors.tags})
    allocations = whole_groups(ledger, pl.lit(UNALLOCATED), "unallocated", pl.lit(UNMATCHED_RULE))
    detail = (
        ledger.with_columns(reason_expr(keys))
        .group_by(
            "month", "provider", "service_name", "resource_id", "cost_type", "reason", "currency"
        )
        .agg(pl.col("amount").sum(), pl.col("line_count").sum().cast(pl.Int64))
        .select(list(UNALLOCATED_SCHEMA))
    )
    return StageResult(
        allocations,
        ledger["group_id"],
        unallocated=detail,
        assigned=assignments_of(ledger, pl.lit(UNALLOCATED), pl.lit(UNMATCHED_RULE)),
    )
