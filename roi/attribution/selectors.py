"""Matching line groups to selectors (model selectors, pool claims) at any number of models.

Nothing is evaluated model by model over every group: tag values and sub-accounts are joined
against a table of (value → candidate), and resource or service globs are evaluated once per
distinct resource id or service name, then joined. 200 models cost about what 10 do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import polars as pl

from roi.attribution.ledger import globs_match, tag_column

HITS_SCHEMA: dict[str, pl.DataType] = {
    "group_id": pl.UInt32(),
    "name": pl.String(),
    "rank": pl.Int32(),
    "priority": pl.Int64(),
}
BEST_SCHEMA: dict[str, pl.DataType] = {
    "group_id": pl.UInt32(),
    "winner": pl.String(),
    "rank": pl.Int32(),
    "matched": pl.List(pl.String()),
    "tied": pl.Boolean(),
}


@dataclass(frozen=True)
class Candidate:
    """A named selector: any of its conditions matching a group makes it a candidate."""

    name: str
    rank: int  # lower wins (the kind of selector)
    priority: int  # then lower wins
    tags: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    resource_ids: tuple[str, ...] = ()
    sub_accounts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()


def _meta(c: Candidate) -> dict[str, object]:
    return {"name": c.name, "rank": c.rank, "priority": c.priority}


def _value_hits(groups: pl.DataFrame, column: str, pairs: list[dict[str, object]]) -> pl.DataFrame:
    """Groups whose `column` equals a listed value, with the candidate listing it."""
    if not pairs:
        return pl.DataFrame(schema=HITS_SCHEMA)
    table = pl.DataFrame(
        pairs,
        schema={"value": pl.String, "name": pl.String, "rank": pl.Int32, "priority": pl.Int64},
    ).unique()
    return (
        groups.select("group_id", pl.col(column).alias("value"))
        .join(table, on="value", how="inner")
        .select(list(HITS_SCHEMA))
    )


def _glob_hits(
    groups: pl.DataFrame, column: str, candidates: list[tuple[Candidate, tuple[str, ...]]]
) -> pl.DataFrame:
    """Groups whose `column` matches a candidate's globs (evaluated per distinct value)."""
    if not candidates:
        return pl.DataFrame(schema=HITS_SCHEMA)
    values = groups.select(pl.col(column).alias("value")).unique().drop_nulls()
    tables = []
    for candidate, patterns in candidates:
        matched = values.filter(globs_match("value", patterns))
        if matched.height:
            tables.append(
                matched.with_columns(**{k: pl.lit(v) for k, v in _meta(candidate).items()})
            )
    if not tables:
        return pl.DataFrame(schema=HITS_SCHEMA)
    table = pl.concat(tables).cast({"rank": pl.Int32, "priority": pl.Int64})
    return (
        groups.select("group_id", pl.col(column).alias("value"))
        .join(table, on="value", how="inner")
        .select(list(HITS_SCHEMA))
    )


def hits(groups: pl.DataFrame, candidates: list[Candidate]) -> pl.DataFrame:
    """Every (group, candidate) pair where one of the candidate's conditions holds."""
    frames = []
    keys = sorted({k for c in candidates for k in c.tags})
    for key in keys:
        pairs = [
            {**_meta(c), "value": v.strip().lower()}
            for c in candidates
            for v in c.tags.get(key, ())
        ]
        frames.append(_value_hits(groups, tag_column(key), pairs))
    frames.append(
        _value_hits(
            groups,
            "sub_account_id",
            [{**_meta(c), "value": a} for c in candidates for a in c.sub_accounts],
        )
    )
    frames.append(
        _glob_hits(
            groups, "resource_id", [(c, c.resource_ids) for c in candidates if c.resource_ids]
        )
    )
    frames.append(
        _glob_hits(groups, "service_name", [(c, c.services) for c in candidates if c.services])
    )
    return pl.concat(frames).unique()


def best(found: pl.DataFrame) -> pl.DataFrame:
    """Per group the winning candidate (lowest rank, priority, name), every candidate that
    matched in winning order, and whether another was as strong as the winner."""
    if not found.height:
        return pl.DataFrame(schema=BEST_SCHEMA)
    ordered = found.sort("group_id", "rank", "priority", "name")
    return ordered.group_by("group_id", maintain_order=True).agg(
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


def match(groups: pl.DataFrame, candidates: list[Candidate]) -> pl.DataFrame:
    """`best` of `hits`: one row per group that any candidate matches."""
    if not candidates or not groups.height:
        return pl.DataFrame(schema=BEST_SCHEMA)
    return best(hits(groups, candidates))
