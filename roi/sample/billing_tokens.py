"""Token lines of the sample's LLM bills: Azure OpenAI (one shared account, untagged) and Claude
on Bedrock (a tagged application inference profile), one line per day, model and token kind."""

from __future__ import annotations

import json

import polars as pl

from roi.sample.llm import daily_tokens
from roi.sample.meters import AZURE_OPENAI_ID, BEDROCK_PROFILE, LLM_PRICES
from roi.sample.portfolio import AWS_PROD, AZURE_SUB

# Token kinds the clouds bill: daily_tokens' column, the meter's label, LLM_PRICES' price index.
TOKEN_METERS = (
    ("input_tokens", "Inp", 1),
    ("cached_tokens", "Cached Inp", 2),
    ("cache_write_tokens", "Cache Write", 3),
    ("output_tokens", "Outp", 4),
)
# Working columns whose value depends only on the cloud: (Azure OpenAI, Bedrock).
CLOUD_VALUES: dict[str, tuple[str | None, str | None]] = {
    "tags": (None, json.dumps({"ml-model": "document-extraction"}, separators=(",", ":"))),
    "sub_account": (AZURE_SUB, AWS_PROD),
    "service": ("Azure AI Services", "Amazon Bedrock"),
    "subcategory": ("AI Platforms", "Generative AI"),
    "resource_id": (AZURE_OPENAI_ID, BEDROCK_PROFILE),
    "resource_name": ("oai-northwind-shared", "docx-claude"),
    "resource_type": ("microsoft.cognitiveservices/accounts", "ApplicationInferenceProfile"),
    "region": ("eastus", "us-east-1"),
    "service_code": (None, "AmazonBedrock"),
    "operation": (None, "InvokeModel"),
    "resource_group": ("rg-genai-shared", None),
    "meter_category": ("Cognitive Services", None),
}


def _token_quantities(seed: int, logs: pl.DataFrame) -> pl.DataFrame:
    """Billed thousands of tokens per day, model and token kind, with the provider and price."""
    tokens = daily_tokens(seed, logs)
    parts = []
    for column, label, price_index in TOKEN_METERS:
        frame = tokens.filter(pl.col(column) > 0).with_columns(
            provider=pl.col("model").replace_strict({m: p[0] for m, p in LLM_PRICES.items()}),
            list_price=pl.col("model").replace_strict(
                {m: p[price_index] for m, p in LLM_PRICES.items()}, return_dtype=pl.Float64
            ),
            quantity=pl.col(column).cast(pl.Float64) / 1000,
            label=pl.lit(label),
        )
        parts.append(frame.filter(pl.col("list_price") > 0))
    return pl.concat(parts)


def _by_cloud(column: str) -> pl.Expr:
    azure, bedrock = CLOUD_VALUES[column]
    return (
        pl.when(pl.col("provider") == "Microsoft")
        .then(pl.lit(azure, pl.String))
        .otherwise(pl.lit(bedrock, pl.String))
        .alias(column)
    )


def _meter_text(suffix: str) -> pl.Expr:
    return pl.concat_str([pl.col("model"), pl.lit(" "), pl.col("label"), pl.lit(suffix)])


def llm_lines(seed: int, logs: pl.DataFrame) -> pl.DataFrame:
    """Token lines of both clouds in the working schema of the billing lines."""
    cost = pl.col("quantity") * pl.col("list_price")
    return _token_quantities(seed, logs).select(
        "day",
        "quantity",
        _by_cloud("tags"),
        pl.concat_str([pl.lit("llm-"), pl.col("model"), pl.lit("-"), pl.col("label")]).alias("key"),
        "provider",
        _by_cloud("sub_account"),
        pl.lit("Usage").alias("charge_category"),
        pl.lit(None, pl.String).alias("charge_class"),
        pl.lit("Usage-Based").alias("charge_frequency"),
        pl.col("day").alias("period_start"),
        (pl.col("day") + pl.duration(days=1)).alias("period_end"),
        _by_cloud("service"),
        pl.lit("AI and Machine Learning").alias("category"),
        _by_cloud("subcategory"),
        _by_cloud("resource_id"),
        _by_cloud("resource_name"),
        _by_cloud("resource_type"),
        pl.col("model")
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z0-9]", "")
        .str.slice(0, 12)
        .alias("sku_id"),
        _meter_text(" Tokens").alias("sku_meter"),
        _meter_text(" 1K Tokens").alias("description"),
        pl.lit("1K Tokens").alias("unit"),
        "list_price",
        cost.alias("list_cost"),
        cost.alias("billed"),
        cost.alias("effective"),
        pl.lit("Standard").alias("pricing_category"),
        pl.lit(None, pl.String).alias("commitment_id"),
        pl.lit(None, pl.String).alias("commitment_status"),
        pl.lit(None, pl.String).alias("sku_details"),
        _by_cloud("region"),
        _by_cloud("service_code"),
        _by_cloud("operation"),
        _by_cloud("resource_group"),
        _by_cloud("meter_category"),
    )
