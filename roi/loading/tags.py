"""Tags from billing and usage files: provider text to roi's normalised JSON, and what cannot be.

Untrusted text is carried, never interpreted: a tag text that is not a JSON object, or that
holds one key twice (in other case) with different values, is a reject naming the row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import polars as pl

from roi.loading.parsing import Parsed, map_distinct
from roi.loading.rejects import reject_where


class TagKeyClash(ValueError):
    """Two tag keys that differ only in case or spaces, with different values."""


class _Pairs(list[tuple[str, Any]]):
    """A JSON object read as its key/value pairs in order (so a key written twice shows)."""


def _plain(value: Any) -> Any:
    if isinstance(value, _Pairs):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _tag_text(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, dict | list):  # a nested value: its JSON text, never Python's repr
        return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return str(value).strip()


def tag_json(pairs: Iterable[tuple[Any, Any]]) -> str:
    """Key/value pairs as the JSON object roi stores: keys trimmed and lower-cased, values text.

    Valueless tags (`true`) and booleans become "true"/"false", a nested object or list its
    JSON text; null values are dropped.

    Raises:
        TagKeyClash: two keys that differ only in case or spaces hold different values (which
            one a selector matched would be a guess).
    """
    out: dict[str, str] = {}
    written: dict[str, str] = {}
    for key, value in pairs:
        if value is None:
            continue
        norm = str(key).strip().lower()
        text = _tag_text(value)
        if norm in out and out[norm] != text:
            raise TagKeyClash(
                f"tags {written[norm]!r} and {str(key)!r} are one key with different values"
            )
        out[norm], written[norm] = text, str(key)
    return json.dumps(dict(sorted(out.items())), ensure_ascii=False, separators=(",", ":"))


INVALID_TAGS = "\x00invalid"  # marks a tag text that is not a JSON object (never stored)
CLASHING_TAGS = "\x00clash"  # marks tags with one key twice (in other case) and two values


def normalise_tags(raw: str | None) -> str | None:
    """A provider's Tags text as normalised JSON (None when empty).

    Returns `INVALID_TAGS` when the text is not a JSON object and `CLASHING_TAGS` when it holds
    one key twice (differing only in case) with different values: the caller rejects that row.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    if not text.startswith("{"):
        text = "{" + text + "}"  # Azure EA writes `"k": "v","k2": "v2"` without braces
    try:
        obj = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError:
        return INVALID_TAGS
    if not isinstance(obj, _Pairs):
        return INVALID_TAGS
    try:
        return tag_json(obj)
    except TagKeyClash:
        return CLASHING_TAGS


TAGS_REASON = (
    'not a JSON object of tags; write e.g. {"ml-model": "fraud-detection"} (or leave it empty)'
)


CLASH_REASON = (
    "holds one tag key twice (differing only in case or spaces) with different values; keep "
    "one of them (roi matches tag keys without regard to case)"
)


ENTRIES = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))


def map_entries(frame: pl.DataFrame, col: str) -> pl.DataFrame:
    """A Parquet MAP column (Polars' Map type) as the list of key/value structs it holds."""
    if isinstance(frame.schema[col], pl.Map):
        return frame.with_columns(pl.col(col).cast(ENTRIES))
    return frame


def flat_map(column: str) -> pl.Expr:
    """A Parquet MAP column (a list of key/value structs) as one text per row, cheap to
    group by: entries joined by \\x1f, key and value by \\x1e, a null value as \\x00."""
    entry = pl.element()
    return (
        pl.col(column)
        .list.eval(
            pl.concat_str(
                [
                    entry.struct.field("key").cast(pl.String),
                    entry.struct.field("value").cast(pl.String).fill_null("\x00"),
                ],
                separator="\x1e",
            )
        )
        .list.join("\x1f")
    )


def flat_pairs(text: str) -> list[tuple[str, str | None]]:
    """The (key, value) entries of a `flat_map` text, in order, duplicates kept."""
    pairs = [item.split("\x1e", 1) for item in text.split("\x1f") if item]
    return [(k, None if v == "\x00" else v) for k, v in pairs]


def parse_tags(frame: pl.DataFrame, raw_col: str, out_col: str = "tags") -> Parsed:
    """Parse a Tags column (JSON text, or a Parquet map) into normalised JSON text.

    A tag text that is not a JSON object is a reject naming the row (its tags would otherwise
    be lost silently); the row keeps a null `out_col`. Untrusted text is carried, never
    interpreted.
    """
    if frame.schema[raw_col] == pl.Null:  # a Parquet column with no value at all
        frame = frame.with_columns(pl.col(raw_col).cast(pl.String))
    if frame.schema[raw_col] == pl.String:
        parsed = map_distinct(frame, raw_col, out_col, normalise_tags)
        invalid = pl.col(out_col) == INVALID_TAGS
        clashing = pl.col(out_col) == CLASHING_TAGS
        rejects = pl.concat(
            [
                reject_where(parsed, invalid, raw_col, pl.col(raw_col), TAGS_REASON),
                reject_where(parsed, clashing, raw_col, pl.col(raw_col), CLASH_REASON),
            ]
        )
        return Parsed(
            parsed.with_columns(
                pl.when(invalid | clashing).then(None).otherwise(pl.col(out_col)).alias(out_col)
            ),
            rejects,
        )
    # A Parquet MAP is a list of key/value structs: flatten each to text, then parse each
    # distinct text once.
    frame = map_entries(frame, raw_col)
    flat = flat_map(raw_col)

    def from_flat(text: str | None) -> str | None:
        if text is None:
            return None
        try:
            return tag_json(flat_pairs(text))
        except TagKeyClash:
            return CLASHING_TAGS

    with_flat = frame.with_columns(flat.alias("_tags_flat"))
    # A map has no text of its own: its normalised JSON stands in as the raw text (lineage, and
    # what attribution groups lines by).
    parsed = map_distinct(with_flat, "_tags_flat", out_col, from_flat)
    clashing = pl.col(out_col) == CLASHING_TAGS
    rejects = reject_where(parsed, clashing, raw_col, pl.col("_tags_flat"), CLASH_REASON)
    return Parsed(
        parsed.with_columns(pl.when(clashing).then(None).otherwise(pl.col(out_col)).alias(out_col))
        .with_columns(pl.col(out_col).alias(raw_col))
        .drop("_tags_flat"),
        rejects,
    )
