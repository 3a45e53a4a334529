"""The value, P&L and scenario tables."""

from __future__ import annotations

from roi.tables.contract import Check, Table, col

# --- value and the per-model P&L -------------------------------------------------------------

MODEL_VALUE = Table(
    "model_value",
    (
        col("month", "DATE", True),
        col("model_id", "VARCHAR", True),
        col("method", "VARCHAR", True),
        col("value", "DOUBLE"),
        col("value_low", "DOUBLE"),
        col("value_high", "DOUBLE"),
        col("interval_level", "DOUBLE"),
        col("interval_note", "VARCHAR"),
        col("volume", "DOUBLE"),
        col("unit", "VARCHAR"),
        col("currency", "VARCHAR", True),
        col("evidence", "VARCHAR", True),
        col("basis", "VARCHAR", True),
        col("load_ids", "VARCHAR[]", True),
        col("reason", "VARCHAR"),
    ),
    doc="what a model earned in a month by its declared method, with interval and grade "
    "(or a null value and the reason)",
)

MODEL_ROI = Table(
    "model_roi",
    (
        col("month", "DATE", True),
        col("model_id", "VARCHAR", True),
        col("currency", "VARCHAR", True),
        col("cost", "DOUBLE", True),
        col("value", "DOUBLE"),
        col("value_low", "DOUBLE"),
        col("value_high", "DOUBLE"),
        col("net", "DOUBLE"),
        col("roi", "DOUBLE"),
        col("p_negative", "DOUBLE"),
        col("cumulative_net", "DOUBLE"),
        col("payback_month", "DATE"),
        col("npv", "DOUBLE"),
        col("volume", "DOUBLE"),
        col("unit_cost", "DOUBLE"),
        col("unit", "VARCHAR"),
        col("gpu_efficiency", "DOUBLE"),
        col("evidence", "VARCHAR"),
        col("npv_horizon", "DOUBLE"),
        col("irr", "DOUBLE"),
        col("horizon_end", "DATE"),
        col("value_reason", "VARCHAR"),
        col("gpu_hours", "DOUBLE"),
        col("cost_per_gpu_hour", "DOUBLE"),
        col("tokens", "DOUBLE"),
        col("cost_per_1m_tokens", "DOUBLE"),
        col("irr_reason", "VARCHAR"),
    ),
    doc="the per-model P&L: cost, value, net, ROI, payback, NPV, IRR, unit cost per month",
)

KPI_SENSITIVITY = Table(
    "kpi_sensitivity",
    (
        col("model_id", "VARCHAR", True),
        col("kpi", "VARCHAR", True),
        col("metric", "VARCHAR", True),
        col("months", "INTEGER", True),
        col("first_month", "DATE"),
        col("last_month", "DATE"),
        col("kpi_per_point", "DOUBLE"),
        col("kpi_per_point_low", "DOUBLE"),
        col("kpi_per_point_high", "DOUBLE"),
        col("std_error", "DOUBLE"),
        col("p_value", "DOUBLE"),
        col("r_squared", "DOUBLE"),
        col("level", "DOUBLE", True),
        col("unit_value", "DOUBLE"),
        col("value_per_point", "DOUBLE"),
        col("currency", "VARCHAR", True),
        col("measured", "BOOLEAN", True),
        col("note", "VARCHAR", True),
        col("load_ids", "VARCHAR[]", True),
    ),
    primary_key=("model_id",),
    doc="KPI units (and value) per point (0.01) of a model's metric, regressed from history",
)

LLM_UNIT_COSTS = Table(
    "llm_unit_costs",
    (
        col("month", "DATE", True),
        col("model_id", "VARCHAR", True),
        col("serving", "VARCHAR", True, Check("isin", ("api", "self_hosted"))),
        col("providers", "VARCHAR", True),
        col("requests", "BIGINT", True),
        col("uncached_input_tokens", "BIGINT", True),
        col("cached_input_tokens", "BIGINT", True),
        col("cache_write_tokens", "BIGINT", True),
        col("output_tokens", "BIGINT", True),
        col("tokens", "BIGINT", True),
        col("cost", "DOUBLE"),
        col("idle_cost", "DOUBLE"),
        col("cost_per_1m_tokens", "DOUBLE"),
        col("api_reference", "VARCHAR"),
        col("api_cost_same_mix", "DOUBLE"),
        col("api_per_1m_tokens", "DOUBLE"),
        col("currency", "VARCHAR", True),
        col("note", "VARCHAR", True),
        # Migration 19: OpenCost's own rates for a self-hosted model (`inference_costs`).
        col("opencost_per_1m_tokens", "DOUBLE"),
        col("opencost_input_per_1m_tokens", "DOUBLE"),
        col("opencost_output_per_1m_tokens", "DOUBLE"),
    ),
    doc="an LLM model's cost per 1M tokens served, by API or self-hosted (GPU cost with its "
    "idle share), beside what an API charges for the same token mix",
)

VALUE_TABLES = (MODEL_VALUE, MODEL_ROI, KPI_SENSITIVITY, LLM_UNIT_COSTS)

# --- scenarios -----------------------------------------------------------------------------

SCENARIO_RUNS = Table(
    "scenario_runs",
    (
        col("run_id", "VARCHAR", True),
        col("command", "VARCHAR", True),
        col("inputs", "JSON", True),
        col("seed", "BIGINT"),
        col("outputs", "JSON", True),
        col("roi_version", "VARCHAR", True),
        col("created_at", "TIMESTAMPTZ", True),
    ),
    primary_key=("run_id",),
    unique=True,
    doc="one scenario run: the command, its inputs (parameters and the figures it read), the "
    "seed and its outputs, citable by run id",
)

SCENARIO_TABLES = (SCENARIO_RUNS,)
