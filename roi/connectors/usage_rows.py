"""What the LLM-usage file connectors share: from text columns named like `inference_usage`'s
to its typed rows (defaults, provider token conventions, service tiers, labels, parsing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import polars as pl

from roi.loading.parsing import parse_columns
from roi.loading.protocol import Batch
from roi.loading.rejects import empty_rejects, reject_where
from roi.tables import SERVICE_TIERS

KINDS = {
    "ts": "utc",
    "cost": "money",
    "requests": "int",
    "input_tokens": "int",
    "output_tokens": "int",
    "cached_input_tokens": "int",
    "cache_write_tokens": "int",
    "cache_write_1h_tokens": "int",
    "reasoning_tokens": "int",
}
TEXT = (
    "request_id",
    "provider",
    "model",
    "deployment",
    "call_type",
    "feature",
    "model_id",
    "team",
    "status",
    "service_tier",
    "currency",
)
COUNTS = (
    "requests",
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)
# Counts a row may leave out (0); input and output tokens must be there.
OPTIONAL_COUNTS = (
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
)
# What providers report as a tier that bills at the standard price.
_STANDARD = ("default", "standard", "auto", "on_demand", "on-demand")
Counting = Literal["inside", "outside"]


def tags_json(values: Mapping[str, pl.Expr]) -> pl.Expr:
    """A tags JSON object (`{"team":"search"}`) from named text expressions; null values are
    left out, and a row without any is null."""
    if not values:
        return pl.lit(None, pl.String)
    pieces = [
        pl.when(expr.is_not_null()).then(
            pl.struct(expr.cast(pl.String).alias(name))
            .struct.json_encode()
            .str.slice(1)
            .str.head(-1)
        )
        for name, expr in sorted(values.items())
    ]
    body = pl.concat_str(pieces, separator=",", ignore_nulls=True)
    return pl.when(body.str.len_chars() > 0).then(pl.lit("{") + body + pl.lit("}"))


def _rejects(frame: pl.DataFrame, required: Iterable[str], reason: str) -> list[pl.DataFrame]:
    """Tiers that are no tier, currencies that are no code, required labels missing."""
    found = [
        reject_where(
            frame,
            pl.col("service_tier").is_not_null() & ~pl.col("service_tier").is_in(SERVICE_TIERS),
            "service_tier",
            pl.col("service_tier"),
            "not a service tier; allowed: standard (or default), batch, flex, priority",
        ),
        reject_where(
            frame,
            ~pl.col("currency").str.contains(r"^[A-Z]{3}$"),
            "currency",
            pl.col("currency"),
            "not a currency code; write an ISO code like USD",
        ),
    ]
    for name in required:
        missing = pl.col(name).is_null() if name in frame.columns else pl.lit(True)
        found.append(reject_where(frame, missing, name, pl.lit(None, pl.String), reason))
    return found


def usage_batch(
    frame: pl.DataFrame,
    *,
    cached: Counting = "inside",
    reasoning: Counting = "inside",
    currency: str = "USD",
    required: Iterable[str] = (),
    required_reason: str = "required label is missing",
    trim: bool = True,
) -> Batch:
    """Typed `inference_usage` rows from text columns named like its columns.

    `frame` holds text columns (any of `TEXT`, `KINDS` and `tags` as JSON text; counts may be
    integers already) with `source_file` and `source_row`; missing ones are null.
    `cached = "outside"` is the convention of providers whose input count leaves cache reads
    and writes out (Anthropic's native API): they are added to `input_tokens`, roi's
    convention. Likewise `reasoning = "outside"` adds reasoning tokens to `output_tokens`.
    `required` columns (labels the events must carry) are rejects when missing, with
    `required_reason`. Labels are trimmed of white space (`trim`; JSON values are taken as
    written).
    """
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias(c) for c in (*TEXT, *KINDS, "tags") if c not in frame.columns
    )

    # Labels are trimmed (CSV); numbers and times are parsed as written. "" is no value.
    # Counts a reader already typed (JSON numbers) stay as they are.
    typed = {c for c in KINDS if frame.schema[c].is_integer()}

    def text(c: str) -> pl.Expr:
        value = pl.col(c).cast(pl.String)
        return value.str.strip_chars() if trim and c in TEXT else value

    def default(c: str, value: int) -> pl.Expr:
        return pl.col(c).fill_null(value if c in typed else str(value))

    frame = frame.with_columns(
        pl.when(text(c) != "").then(text(c)).alias(c) for c in (*TEXT, *KINDS) if c not in typed
    )
    tier = pl.col("service_tier").str.to_lowercase()
    frame = frame.with_columns(
        requests=default("requests", 1),
        **{c: default(c, 0) for c in OPTIONAL_COUNTS},
        currency=pl.col("currency").str.to_uppercase().fill_null(currency),
        service_tier=pl.when(tier.is_in(_STANDARD)).then(None).otherwise(tier),
    )
    rejects = _rejects(frame, required, required_reason)
    frame = frame.with_columns(
        service_tier=pl.when(pl.col("service_tier").is_in(SERVICE_TIERS)).then(
            pl.col("service_tier")
        )
    )
    parsed = parse_columns(
        frame, KINDS, required=("request_id", "ts", "model", "input_tokens", "output_tokens")
    )
    rows = parsed.frame
    if cached == "outside":
        rows = rows.with_columns(
            input_tokens=pl.col("input_tokens")
            + pl.col("cached_input_tokens")
            + pl.col("cache_write_tokens")
        )
    if reasoning == "outside":
        rows = rows.with_columns(output_tokens=pl.col("output_tokens") + pl.col("reasoning_tokens"))
    rows = rows.with_columns(
        cost_source=pl.when(pl.col("cost").is_null())
        .then(pl.lit("unpriced"))
        .otherwise(pl.lit("reported")),
        price_version=pl.lit(None, pl.String),
    )
    every = [r for r in rejects if r.height]
    return Batch(rows, pl.concat([parsed.rejects, *every]) if every else parsed.rejects)


__all__ = ["COUNTS", "KINDS", "TEXT", "Counting", "empty_rejects", "tags_json", "usage_batch"]
