"""The tables connectors load (one contract each)."""

from __future__ import annotations

import polars as pl

from roi.tables.contract import (
    CHARGE_CATEGORIES,
    MONEY,
    NON_NEGATIVE,
    UNIT_INTERVAL,
    Check,
    RowCheck,
    Table,
    col,
    lineage,
    ordered,
)

# How an LLM request's cost was found: as the gateway or provider reported it, from the price
# book (roi.pricing), corrected to the provider's invoice, or not at all (no price known).
COST_SOURCES = ("reported", "priced", "trued-up", "unpriced")
# Service tiers a provider prices apart; null is standard.
SERVICE_TIERS = ("standard", "batch", "flex", "priority")

# --- loaded tables -------------------------------------------------------------------------

COST_LINES = Table(
    "cost_lines",
    (
        col("provider", "VARCHAR", True),
        col("billing_account_id", "VARCHAR", True),
        col("billing_account_name", "VARCHAR"),
        col("sub_account_id", "VARCHAR"),
        col("sub_account_name", "VARCHAR"),
        col("invoice_id", "VARCHAR"),
        col("billing_period_start", "TIMESTAMPTZ", True),
        col("billing_period_end", "TIMESTAMPTZ", True),
        col("charge_period_start", "TIMESTAMPTZ", True),
        col("charge_period_end", "TIMESTAMPTZ", True),
        col("charge_category", "VARCHAR", True, Check("isin", CHARGE_CATEGORIES)),
        col("charge_class", "VARCHAR"),
        col("charge_frequency", "VARCHAR"),
        col("charge_description", "VARCHAR"),
        col("pricing_category", "VARCHAR"),
        col("service_name", "VARCHAR"),
        col("service_category", "VARCHAR"),
        col("service_subcategory", "VARCHAR"),
        col("region_id", "VARCHAR"),
        col("resource_id", "VARCHAR"),
        col("resource_name", "VARCHAR"),
        col("resource_type", "VARCHAR"),
        col("sku_id", "VARCHAR"),
        col("sku_price_id", "VARCHAR"),
        col("sku_meter", "VARCHAR"),
        col("billed_cost", MONEY, True),
        col("effective_cost", MONEY, True),
        col("list_cost", MONEY),
        col("contracted_cost", MONEY),
        col("consumed_quantity", "DOUBLE"),
        col("consumed_unit", "VARCHAR"),
        col("pricing_quantity", "DOUBLE"),
        col("pricing_unit", "VARCHAR"),
        col("commitment_discount_id", "VARCHAR"),
        col("commitment_discount_type", "VARCHAR"),
        col("commitment_discount_category", "VARCHAR"),
        col("commitment_discount_status", "VARCHAR"),
        col("billing_currency", "VARCHAR", True, Check("matches", (r"^[A-Z]{3}$",))),
        col("tags", "MAP(VARCHAR, VARCHAR)"),
        col("tags_raw", "VARCHAR"),
        col("sku_price_details", "VARCHAR"),
        col("x_instance_type", "VARCHAR"),
        col("x_gpu_count", "INTEGER"),
        col("focus_version", "VARCHAR", True),
        col("export", "VARCHAR", True),
        col("delivery", "VARCHAR", True),
        *lineage(),
        # Unit prices in the billing currency (FOCUS ListUnitPrice, ContractedUnitPrice; the
        # price actually paid per unit, Azure's EffectivePrice). Added after the lineage so that
        # billing lines written before them (CSV read by position) keep their columns' places.
        col("list_unit_price", MONEY),
        col("contracted_unit_price", MONEY),
        col("x_effective_unit_price", MONEY),
    ),
    primary_key=(
        "provider",
        "billing_account_id",
        "billing_period_start",
        "source_file",
        "source_row",
    ),
    replace_by=("provider", "billing_account_id", "billing_period_start", "export"),
    row_checks=(
        ordered("billing_period_start", "billing_period_end", strict=True),
        ordered("charge_period_start", "charge_period_end", strict=False),
    ),
    doc="one billing line, FOCUS-shaped, any provider",
)

INFERENCE_USAGE = Table(
    "inference_usage",
    (
        col("request_id", "VARCHAR", True),
        col("ts", "TIMESTAMPTZ", True),
        col("provider", "VARCHAR"),
        col("model", "VARCHAR", True),
        col("deployment", "VARCHAR"),
        col("call_type", "VARCHAR"),
        col("feature", "VARCHAR"),
        col("model_id", "VARCHAR"),
        col("team", "VARCHAR"),
        col("tags", "MAP(VARCHAR, VARCHAR)"),
        col("status", "VARCHAR"),
        col("requests", "BIGINT", True, NON_NEGATIVE),
        col("input_tokens", "BIGINT", True, NON_NEGATIVE),
        col("cached_input_tokens", "BIGINT", True, NON_NEGATIVE),
        col("cache_write_tokens", "BIGINT", True, NON_NEGATIVE),
        col("output_tokens", "BIGINT", True, NON_NEGATIVE),
        col("cost", MONEY, False, NON_NEGATIVE),
        col("currency", "VARCHAR", True),
        col("cost_source", "VARCHAR", True, Check("isin", COST_SOURCES)),
        col("price_version", "VARCHAR"),
        *lineage(),
        # Of cache_write_tokens, those written for 1 hour (Anthropic prices them apart).
        col("cache_write_1h_tokens", "BIGINT", False, NON_NEGATIVE),
        # Migration 18: what a dated price book needs beyond input, cached and output tokens.
        col("reasoning_tokens", "BIGINT", False, NON_NEGATIVE),  # part of output_tokens
        col("service_tier", "VARCHAR", False, Check("isin", SERVICE_TIERS)),
    ),
    primary_key=("request_id",),
    row_checks=(
        RowCheck(
            "cached_input_tokens",
            pl.col("cached_input_tokens") + pl.col("cache_write_tokens") <= pl.col("input_tokens"),
            "cached and cache-write tokens exceed input tokens (they are part of it)",
        ),
        RowCheck(
            "reasoning_tokens",
            # No reasoning (null or 0) never fails, whatever the output count (that has its own
            # check): a usage report without reasoning tokens is not a reasoning error.
            (pl.col("reasoning_tokens").fill_null(0) == 0)
            | (pl.col("reasoning_tokens") <= pl.col("output_tokens")),
            "reasoning tokens exceed output tokens (they are part of it)",
        ),
        RowCheck(
            "cache_write_1h_tokens",
            pl.col("cache_write_1h_tokens").fill_null(0) <= pl.col("cache_write_tokens"),
            "1-hour cache writes exceed cache-write tokens (they are part of them)",
        ),
    ),
    doc="one LLM request (or a pre-aggregated bucket of them) from a gateway or provider",
)

GPU_USAGE = Table(
    "gpu_usage",
    (
        col("interval_start", "TIMESTAMPTZ", True),
        col("interval_end", "TIMESTAMPTZ", True),
        col("cluster", "VARCHAR", True),
        col("node", "VARCHAR", True),
        col("gpu_uuid", "VARCHAR", True),
        col("gpu_index", "INTEGER"),
        col("gpu_model", "VARCHAR"),
        col("namespace", "VARCHAR"),
        col("workload", "VARCHAR"),
        col("pod", "VARCHAR"),
        col("labels", "MAP(VARCHAR, VARCHAR)"),
        col("gpu_share", "DOUBLE", True, UNIT_INTERVAL),
        col("utilization", "DOUBLE", False, UNIT_INTERVAL),
        col("memory_used_bytes", "BIGINT", False, NON_NEGATIVE),
        col("power_watts", "DOUBLE"),
        col("source", "VARCHAR", True),
        *lineage(row_required=False),
    ),
    primary_key=("cluster", "gpu_uuid", "interval_start", "pod"),
    coalesce=("utilization", "memory_used_bytes", "power_watts"),
    row_checks=(ordered("interval_start", "interval_end", strict=True),),
    doc="one GPU (or a MIG slice / time-sliced share of it) held by a workload for an interval",
)

KPI_VALUES = Table(
    "kpi_values",
    (
        col("kpi", "VARCHAR", True),
        col("period_start", "DATE", True),
        col("period_end", "DATE", True),
        col("model_id", "VARCHAR"),
        col("segment", "VARCHAR", True),
        col("experiment_id", "VARCHAR"),
        col("value", "DOUBLE", True),
        col("unit", "VARCHAR"),
        col("n", "BIGINT", False, NON_NEGATIVE),
        col("std_dev", "DOUBLE", False, NON_NEGATIVE),
        *lineage(),
    ),
    primary_key=("kpi", "model_id", "segment", "period_start", "period_end", "experiment_id"),
    restated=("value",),
    row_checks=(ordered("period_start", "period_end", strict=True),),
    doc="a business KPI, unit value or experiment arm for a period (and model, segment)",
)

MODEL_METRICS = Table(
    "model_metrics",
    (
        col("model_id", "VARCHAR", True),
        col("metric", "VARCHAR", True),
        col("ts", "TIMESTAMPTZ", True),
        col("value", "DOUBLE", True, Check("finite")),
        col("model_version", "VARCHAR"),
        *lineage(),
    ),
    primary_key=("model_id", "metric", "ts", "model_version"),
    doc="a model quality metric (AUC, F1, NDCG, ...) at a time",
)

PROVIDER_INVOICES = Table(
    "provider_invoices",
    (
        col("line_id", "VARCHAR", True),
        col("provider", "VARCHAR", True),
        col("period_start", "TIMESTAMPTZ", True),
        col("period_end", "TIMESTAMPTZ", True),
        col("project_id", "VARCHAR"),  # an OpenAI project, an Anthropic workspace ("default")
        col("line_item", "VARCHAR"),
        col("model", "VARCHAR"),
        col("cost_type", "VARCHAR"),
        col("token_type", "VARCHAR"),
        col("service_tier", "VARCHAR"),
        col("context_window", "VARCHAR"),
        col("amount", MONEY, True),
        col("currency", "VARCHAR", True, Check("matches", (r"^[A-Z]{3}$",))),
        col("source_amount", MONEY),  # before conversion to the project's currency
        col("source_currency", "VARCHAR"),
        col("fx_rate", MONEY),
        *lineage(),
    ),
    primary_key=("line_id",),
    restated=("amount",),
    row_checks=(ordered("period_start", "period_end", strict=True),),
    doc="one line of an LLM provider's invoice: a day's cost per project and line item",
)

CONTRACT_COMMITMENTS = Table(
    "contract_commitments",
    (
        col("contract_commitment_id", "VARCHAR", True),
        col("contract_id", "VARCHAR", True),
        col("category", "VARCHAR", True, Check("isin", ("Spend", "Usage"))),
        col("commitment_type", "VARCHAR"),
        col("description", "VARCHAR"),
        col("commitment_period_start", "TIMESTAMPTZ", True),
        col("commitment_period_end", "TIMESTAMPTZ", True),
        col("contract_period_start", "TIMESTAMPTZ"),
        col("contract_period_end", "TIMESTAMPTZ"),
        col("cost", MONEY, False, NON_NEGATIVE),
        col("quantity", "DOUBLE", False, NON_NEGATIVE),
        col("unit", "VARCHAR"),
        col("billing_currency", "VARCHAR", True, Check("matches", (r"^[A-Z]{3}$",))),
        *lineage(),
    ),
    primary_key=("contract_commitment_id", "commitment_period_start"),
    restated=("cost",),
    row_checks=(ordered("commitment_period_start", "commitment_period_end", strict=True),),
    doc="one commitment of a contract for a period (FOCUS 1.3's Contract Commitment dataset)",
)

INFERENCE_COSTS = Table(
    "inference_costs",
    (
        col("window_start", "TIMESTAMPTZ", True),
        col("window_end", "TIMESTAMPTZ", True),
        col("cluster", "VARCHAR", True),
        col("namespace", "VARCHAR", True),  # "" when OpenCost aggregated it away
        col("model_name", "VARCHAR", True),
        col("model_version", "VARCHAR"),
        col("cost_basis", "VARCHAR", True, Check("isin", ("allocation", "usage"))),
        col("total_cost", "DOUBLE", True, NON_NEGATIVE),
        col("input_cost", "DOUBLE"),
        col("output_cost", "DOUBLE"),
        col("prompt_tokens", "DOUBLE", True, NON_NEGATIVE),
        col("cached_tokens", "DOUBLE", False, NON_NEGATIVE),  # of the prompt tokens
        col("generation_tokens", "DOUBLE", True, NON_NEGATIVE),
        col("cost_per_1m_tokens", "DOUBLE"),
        col("input_cost_per_1m_tokens", "DOUBLE"),
        col("output_cost_per_1m_tokens", "DOUBLE"),
        col("allocation_method", "VARCHAR"),
        col("currency", "VARCHAR", True, Check("matches", (r"^[A-Z]{3}$",))),
        *lineage(),
    ),
    primary_key=("cluster", "namespace", "model_name", "cost_basis", "window_start"),
    row_checks=(ordered("window_start", "window_end", strict=True),),
    doc="a self-hosted model's serving cost and tokens for a window, as OpenCost's inference-"
    "cost API computed them: a reference rate, never cost (the GPU time is in the bills)",
)

LOADED_TABLES = (
    COST_LINES,
    INFERENCE_USAGE,
    GPU_USAGE,
    KPI_VALUES,
    MODEL_METRICS,
    PROVIDER_INVOICES,
    CONTRACT_COMMITMENTS,
    INFERENCE_COSTS,
)
