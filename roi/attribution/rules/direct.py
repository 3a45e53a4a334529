"""Direct cost: a line group goes to the model whose own selectors match it.

A tag match (`tags = { "ml-model" = [...] }`, keys and values compared case-insensitively) wins
over a resource-id pattern, which wins over a sub-account; ties go to the lower `priority`,
then the model id. A group two models match is counted once, for the winner, and reported in
`attribution_conflicts`.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from roi.attribution.ledger import globs_match, tag_column
from roi.attribution.rules import (
    CONFLICT_SCHEMA,
    StageContext,
    StageResult,
    assignments_of,
    whole_groups,
)
from roi.config import ModelConfig

# Selector kinds in the order they win: a tag names its model explicitly, a resource pattern or
# a sub-account only implies it.
SELECTOR_KINDS = ("tag", "resource", "sub_account")


def tags_match(tags: Mapping[str, tuple[str, ...]]) -> pl.Expr:
    """Whether any of the tag keys holds one of its values (case-insensitive)."""
    return pl.any_horizontal(
        pl.col(tag_column(k)).is_in([v.strip().lower() for v in values]).fill_null(False)
        for k, values in tags.items()
    )


def selector_exprs(model: ModelConfig) -> list[tuple[str, pl.Expr]]:
    """(selector kind, condition) pairs of one model, strongest kind first."""
    sel = model.selectors
    rules: list[tuple[str, pl.Expr]] = []
    if sel.tags:
        rules.append(("tag", tags_match(sel.tags)))
    if sel.resource_ids:
        rules.append(("resource", globs_match("resource_id", sel.resource_ids)))
    if sel.sub_accounts:
        accounts = list(sel.sub_accounts)
        rules.append(("sub_account", pl.col("sub_account_id").is_in(accounts).fill_null(False)))
    return rules


def best_match(
    groups: pl.DataFrame, candidates: list[tuple[str, int, int, pl.Expr]]
) -> pl.DataFrame:
    """Per group the winning candidate and every candidate that matched.

    `candidates` are (name, kind rank, priority, condition); the lowest (rank, priority, name)
    wins. Returns group_id, winner, rank and `matched` (names in winning order), for matched
    groups only.
    """
    if not candidates or not groups.height:
        return pl.DataFrame(
            schema={
                "group_id": pl.UInt32,
                "winner": pl.String,
                "rank": pl.Int32,
                "matched": pl.List(pl.String),
                "tied": pl.Boolean,
            }
        )
    flags = groups.select(
        "group_id", *[cond.alias(f"c{i}") for i, (_, _, _, cond) in enumerate(candidates)]
    )
    meta = pl.DataFrame(
        {
            "candidate": [f"c{i}" for i in range(len(candidates))],
            "name": [c[0] for c in candidates],
            "rank": [c[1] for c in candidates],
            "priority": [c[2] for c in candidates],
        },
        schema={"candidate": pl.String, "name": pl.String, "rank": pl.Int32, "priority": pl.Int64},
    )
    hits = (
        flags.unpivot(index="group_id", variable_name="candidate", value_name="hit")
        .filter(pl.col("hit"))
        .join(meta, on="candidate")
        .sort("group_id", "rank", "priority", "name")
    )
    return hits.group_by("group_id", maintain_order=True).agg(
        pl.col("name").first().alias("winner"),
        pl.col("rank").first(),
        pl.col("name").unique(maintain_order=True).alias("matched"),
        # Candidates as strong as the winner: only the name decided between them.
        (
            (pl.col("rank") == pl.col("rank").first())
            & (pl.col("priority") == pl.col("priority").first())
        )
        .sum()
        .gt(1)
        .alias("tied"),
    )


def match_models(groups: pl.DataFrame, models: tuple[ModelConfig, ...]) -> pl.DataFrame:
    """Winning model, its selector kind and every model that matched, per matched group."""
    candidates = [
        (m.model_id, SELECTOR_KINDS.index(kind), m.selectors.priority, cond)
        for m in models
        for kind, cond in selector_exprs(m)
    ]
    return best_match(groups, candidates).with_columns(
        kind=pl.col("rank").replace_strict(dict(enumerate(SELECTOR_KINDS)), return_dtype=pl.String)
    )


def run(ledger: pl.DataFrame, ctx: StageContext) -> StageResult:
    """Take every group a model's selectors match."""
    matches = match_models(ledger, ctx.models)
    taken = ledger.join(matches, on="group_id", how="inner")
    rule = pl.concat_str([pl.col("winner"), pl.col("kind")], separator=":")
    allocations = whole_groups(taken, pl.col("winner"), "direct", rule)
    conflicts = (
        taken.filter(pl.col("matched").list.len() > 1)
        .group_by("month", "provider", "resource_id", "matched", "winner")
        .agg(pl.col("amount").sum(), pl.col("line_count").sum().cast(pl.Int64))
        .rename({"matched": "matched_models", "winner": "chosen_model"})
        .select(list(CONFLICT_SCHEMA))
    )
    return StageResult(
        allocations,
        taken["group_id"],
        conflicts=conflicts,
        assigned=assignments_of(taken, pl.col("winner"), rule),
    )
