"""Polars helpers any floor may use (the ground floor: no roi imports)."""

from __future__ import annotations

import polars as pl


def attach(frame: pl.DataFrame, lookup: pl.DataFrame, on: str | list[str]) -> pl.DataFrame:
    """`frame` with `lookup`'s other columns, matched on `on` (a null key matches a null key).

    A left join in which only the key columns are joined: the rest of the frame stays where it
    is (joining the whole frame gathers every one of its columns, several times the cost on a
    wide batch). `lookup` holds each key once; a key twice would add rows and fail loudly. A
    column of `lookup` that `frame` already has is replaced.
    """
    keys = [on] if isinstance(on, str) else on
    found = frame.select(keys).join(
        lookup, on=keys, how="left", nulls_equal=True, maintain_order="left"
    )
    return frame.with_columns(found.drop(keys))


__all__ = ["attach"]
