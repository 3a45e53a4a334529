"""LiteLLM proxy spend logs (`LiteLLM_SpendLogs`, one row per request) → `inference_usage`.

Reads CSV dumps of the table as Postgres writes them (`\\copy "LiteLLM_SpendLogs" TO ... CSV
HEADER`). Token semantics are LiteLLM's normalised OpenAI ones: `prompt_tokens` already
includes cached tokens, which come from `metadata.additional_usage_values`. The portfolio model
comes from `metadata.spend_logs_metadata.<portfolio_key>`, the feature from a `feature:<name>`
request tag. The `api_base` a request went to (the Azure OpenAI account, a Vertex project) is
kept as the tag `api_base`, without any user, password or query it may hold: `roi reconcile`
scopes a cloud bill's LLM lines by the account it names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from roi.config import redact_url
from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample
from roi.connectors.usage_rows import KINDS
from roi.frames import attach
from roi.loading.csv_text import read_csv_text
from roi.loading.parsing import null_if_token, parse_columns, require_columns
from roi.loading.protocol import Batch
from roi.loading.rejects import reject_where
from roi.loading.tags import CLASH_REASON, CLASHING_TAGS, INVALID_TAGS, TagKeyClash, tag_json
from roi.tables import INFERENCE_USAGE
from roi.vocabulary import SELF_HOSTED_PROVIDERS

REQUIRED_SOURCE = (
    "request_id",
    "startTime",
    "model",
    "spend",
    "prompt_tokens",
    "completion_tokens",
)
OPTIONAL_SOURCE = (
    "custom_llm_provider",
    "model_group",
    "call_type",
    "metadata",
    "team_id",
    "request_tags",
    "status",
    "api_base",
)


def request_tags(raw: str | None, api_base: str | None = None) -> str | None:
    """`["feature:x","beta"]` → `{"beta":"true","feature":"x"}` (roi's tag JSON), with the
    request's `api_base` (redacted: no user, password, query) unless a tag of that name exists.

    Returns `INVALID_TAGS` for text that is not a JSON list (the row is rejected).
    """
    pairs: list[tuple[str, Any]] = []
    if raw is not None:
        try:
            items = json.loads(raw)
        except json.JSONDecodeError:
            return INVALID_TAGS
        if not isinstance(items, list):
            return INVALID_TAGS
        for item in items:
            key, sep, value = str(item).partition(":")
            pairs.append((key, value.strip() if sep else True))
    if api_base and not any(k.strip().lower() == "api_base" for k, _ in pairs):
        pairs.append(("api_base", redact_url(api_base) if "://" in api_base else api_base))
    if raw is None and not pairs:
        return None
    try:
        return tag_json(pairs)
    except TagKeyClash:
        return CLASHING_TAGS


def _usage_columns(raw: pl.DataFrame, key: str, relative: str) -> pl.DataFrame:
    """The spend log's columns as `inference_usage` text columns (cached and cache-write
    tokens from the metadata's usage values; the model from `spend_logs_metadata.<key>`)."""
    usage = "$.additional_usage_values"
    return raw.select(
        pl.col("request_id"),
        pl.col("startTime").alias("ts"),
        pl.col("custom_llm_provider").alias("provider"),
        pl.col("model"),
        pl.coalesce(pl.col("model_group"), pl.col("model")).alias("deployment"),
        pl.col("call_type"),
        pl.col("metadata").str.json_path_match(f"$.spend_logs_metadata.{key}").alias("model_id"),
        pl.coalesce(
            pl.col("metadata").str.json_path_match("$.user_api_key_team_alias"),
            pl.col("team_id"),
        ).alias("team"),
        pl.col("request_tags"),
        pl.col("api_base"),
        pl.col("status"),
        pl.col("prompt_tokens").alias("input_tokens"),
        pl.col("completion_tokens").alias("output_tokens"),
        pl.coalesce(
            pl.col("metadata").str.json_path_match(f"{usage}.prompt_tokens_details.cached_tokens"),
            pl.col("metadata").str.json_path_match(f"{usage}.cache_read_input_tokens"),
            pl.lit("0"),
        ).alias("cached_input_tokens"),
        pl.coalesce(
            pl.col("metadata").str.json_path_match(f"{usage}.cache_creation_input_tokens"),
            pl.lit("0"),
        ).alias("cache_write_tokens"),
        pl.coalesce(
            pl.col("metadata").str.json_path_match(
                f"{usage}.cache_creation.ephemeral_1h_input_tokens"
            ),
            pl.lit("0"),
        ).alias("cache_write_1h_tokens"),
        pl.coalesce(
            pl.col("metadata").str.json_path_match(
                f"{usage}.completion_tokens_details.reasoning_tokens"
            ),
            pl.lit("0"),
        ).alias("reasoning_tokens"),
        pl.col("spend").alias("cost"),
        pl.col("metadata"),
        pl.col("source_row"),
        source_file=pl.lit(relative),
    )


def _metadata_and_tag_rejects(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows whose metadata is not JSON, or whose request tags are not a JSON list or hold one
    key twice."""
    # Metadata that is not JSON would silently lose the model and cached tokens.
    bad_metadata = (
        pl.col("metadata").is_not_null() & pl.col("metadata").str.json_path_match("$").is_null()
    )
    return pl.concat(
        [
            reject_where(
                frame,
                bad_metadata,
                "metadata",
                pl.col("metadata").str.slice(0, 60),
                "not valid JSON; export the metadata column as LiteLLM stores it",
            ),
            reject_where(
                frame,
                pl.col("tags") == INVALID_TAGS,
                "request_tags",
                pl.col("request_tags"),
                'not a JSON list of tags; write e.g. ["feature:search"] (or leave it empty)',
            ),
            reject_where(
                frame,
                pl.col("tags") == CLASHING_TAGS,
                "request_tags",
                pl.col("request_tags"),
                CLASH_REASON,
            ),
        ]
    )


@dataclass(frozen=True)
class LiteLLMOptions:
    """`[options]` of a `litellm_spend_logs` connector."""

    portfolio_key: str = "model_portfolio_id"  # metadata.spend_logs_metadata key naming the model
    # "price": a spend of 0 for a request with tokens (not self-hosted) is LiteLLM's silent
    # price-map miss (BerriAI/litellm PR #35913), priced from roi's book; "keep" trusts it.
    zero_spend: Literal["price", "keep"] = "price"


@register
class LiteLLMSpendLogs(FileConnector):
    """LiteLLM `LiteLLM_SpendLogs` CSV dumps."""

    type_name = "litellm_spend_logs"
    table = INFERENCE_USAGE
    description = "LiteLLM proxy spend logs (LiteLLM_SpendLogs table dumped to CSV / CSV.gz)"
    Options = LiteLLMOptions

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """LiteLLM_SpendLogs columns."""
        if sample.has("request_id", "spend", "starttime", "model"):
            return "LiteLLM spend-log columns (request_id, spend, startTime, model)"
        return None

    def read_file(self, path: Path, relative: str) -> Batch:
        """Parse one spend-log dump."""
        raw = read_csv_text(path, relative)
        require_columns(
            raw,
            relative,
            REQUIRED_SOURCE,
            "export the whole LiteLLM_SpendLogs table with its header row",
        )
        return spend_log_batch(raw, self.options.portfolio_key, relative, self.options.zero_spend)


def spend_log_batch(
    raw: pl.DataFrame, portfolio_key: str, relative: str, zero_spend: str = "price"
) -> Batch:
    """Spend-log rows (text columns named as in `LiteLLM_SpendLogs`, plus `source_row`) as
    `inference_usage` rows and rejects; shared by the CSV dumps and `litellm_postgres`.

    With `zero_spend = "price"`, a request with tokens that LiteLLM logged at 0 spend (a model
    its price map lacks) is left for the price book, not counted as free."""
    # Older LiteLLM versions and `\copy (SELECT ...)` dumps lack some columns.
    raw = raw.with_columns(
        pl.lit(None, pl.String).alias(c) for c in OPTIONAL_SOURCE if c not in raw.columns
    )
    raw = raw.with_columns(null_if_token(c for c in raw.columns if c != "source_row"))
    frame = _usage_columns(raw, portfolio_key, relative)
    distinct = frame.select("request_tags", "api_base").unique()
    distinct = distinct.with_columns(
        tags=pl.Series([request_tags(*pair) for pair in distinct.iter_rows()], dtype=pl.String)
    )
    frame = attach(frame, distinct, ["request_tags", "api_base"])
    rejects = _metadata_and_tag_rejects(frame)
    frame = frame.with_columns(
        tags=pl.when(pl.col("tags").is_in([INVALID_TAGS, CLASHING_TAGS]))
        .then(None)
        .otherwise(pl.col("tags"))
    ).drop("request_tags", "api_base", "metadata")
    frame = frame.with_columns(
        feature=pl.col("tags").str.json_path_match("$.feature"),
        requests=pl.lit(1, pl.Int64),
        currency=pl.lit("USD"),
        cost_source=pl.lit("reported"),
        price_version=pl.lit(None, pl.String),
        service_tier=pl.lit(None, pl.String),
    )
    parsed = parse_columns(frame, KINDS, required=("request_id", "ts", "model"))
    rows = parsed.frame
    if zero_spend == "price":
        missed = (
            (pl.col("cost") == 0)
            & (pl.col("input_tokens") + pl.col("output_tokens") > 0)
            & ~pl.col("provider").is_in(SELF_HOSTED_PROVIDERS).fill_null(False)
        ).fill_null(False)
        rows = rows.with_columns(
            cost=pl.when(missed).then(None).otherwise(pl.col("cost")),
            cost_source=pl.when(missed).then(pl.lit("unpriced")).otherwise("cost_source"),
        )
    return Batch(rows, pl.concat([parsed.rejects, rejects]))
