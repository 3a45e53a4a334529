"""Direct cost: a line group goes to the model whose own selectors match it.

Lines carrying the project's training tags (`[attribution] training_tags`) count as the
model's `training` cost; the engine amortizes them for models declared `training =
"amortize:N"`.

A tag match (`tags = { "ml-model" = [...] }`, keys and values compared case-insensitively) wins
over a resource-id pattern, which wins over a sub-account; ties go to the lower `priority`,
then the model id. A group two models match is counted once, for the winner, and reported in
`attribution_conflicts`.
"""

from __future__ import annotations

import polars as pl

from roi.attribution.rules import (
    StageContext,
    StageResult,
    assignments_of,
    conflict_rows,
    register,
    whole_groups,
)
from roi.attribution.selectors import Candidate, match
from roi.config import ModelConfig

# Selector kinds in the order they win: a tag names its model explicitly, a resource pattern or
# a sub-account only implies it.
SELECTOR_KINDS = ("tag", "resource", "sub_account")


def candidates(models: tuple[ModelConfig, ...]) -> list[Candidate]:
    """Each model's selectors as candidates, one per selector kind (ranked by kind)."""
    out = []
    for m in models:
        sel = m.selectors
        if sel.tags:
            out.append(Candidate(m.model_id, 0, sel.priority, tags=sel.tags))
        if sel.resource_ids:
            out.append(Candidate(m.model_id, 1, sel.priority, resource_ids=sel.resource_ids))
        if sel.sub_accounts:
            out.append(Candidate(m.model_id, 2, sel.priority, sub_accounts=sel.sub_accounts))
    return out


def match_models(groups: pl.DataFrame, models: tuple[ModelConfig, ...]) -> pl.DataFrame:
    """Winning model, its selector kind and every model that matched, per matched group."""
    return match(groups, candidates(models)).with_columns(
        kind=pl.col("rank").replace_strict(dict(enumerate(SELECTOR_KINDS)), return_dtype=pl.String)
    )


@register("direct", 10)
def run(ledger: pl.DataFrame, ctx: StageContext) -> StageResult:
    """Take every group a model's selectors match."""
    matches = match_models(ledger, ctx.models)
    taken = ledger.join(matches, on="group_id", how="inner")
    training = ctx.settings.training_tags
    if training:
        marked = match(taken, [Candidate("training", 0, 0, tags=training)])
        taken = taken.with_columns(
            cost_type=pl.when(pl.col("group_id").is_in(marked["group_id"].implode()))
            .then(pl.lit("training"))
            .otherwise(pl.col("cost_type"))
        )
    rule = pl.concat_str([pl.col("winner"), pl.col("kind")], separator=":")
    allocations = whole_groups(taken, pl.col("winner"), "direct", rule)
    conflicts = conflict_rows(taken.filter(pl.col("matched").list.len() > 1))
    return StageResult(
        allocations,
        taken["group_id"],
        conflicts=conflicts,
        assigned=assignments_of(taken, pl.col("winner"), rule),
    )
