"""The tables attribution writes."""

from __future__ import annotations

from roi.tables.contract import MONEY, Table, col

# --- attribution's tables ------------------------------------------------------------------

PORTFOLIO_MODELS = Table(
    "portfolio_models",
    (
        col("model_id", "VARCHAR", True),
        col("name", "VARCHAR", True),
        col("owner", "VARCHAR", True),
        col("business_unit", "VARCHAR", True),
        col("stage", "VARCHAR", True),
        col("launched", "DATE"),
        col("retired", "DATE"),
        col("domain", "VARCHAR"),
        col("definition_file", "VARCHAR", True),
    ),
    primary_key=("model_id",),
    unique=True,
    doc="the models defined in models/*.toml, as of the last attribution",
)

ALLOCATED_COSTS = Table(
    "allocated_costs",
    (
        col("month", "DATE", True),
        col("model_id", "VARCHAR", True),
        col("cost_type", "VARCHAR", True),
        col("basis", "VARCHAR", True),
        col("rule_id", "VARCHAR", True),
        col("provider", "VARCHAR", True),
        col("amount", MONEY, True),
        col("billed_amount", MONEY, True),
        col("currency", "VARCHAR", True),
        col("line_count", "BIGINT", True),
        col("load_ids", "VARCHAR[]", True),
        col("attribution_id", "VARCHAR", True),
    ),
    doc="effective cost per month, model (or a sentinel), cost type, basis and rule",
)

ATTRIBUTION_CONFLICTS = Table(
    "attribution_conflicts",
    (
        col("month", "DATE", True),
        col("provider", "VARCHAR", True),
        col("resource_id", "VARCHAR"),
        col("matched_models", "VARCHAR[]", True),
        col("chosen_model", "VARCHAR", True),
        col("amount", MONEY, True),
        col("line_count", "BIGINT", True),
        col("attribution_id", "VARCHAR", True),
    ),
    doc="line groups that several models' selectors matched, and which one won",
)

UNALLOCATED_COSTS = Table(
    "unallocated_costs",
    (
        col("month", "DATE", True),
        col("provider", "VARCHAR", True),
        col("service_name", "VARCHAR"),
        col("resource_id", "VARCHAR"),
        col("cost_type", "VARCHAR", True),
        col("reason", "VARCHAR", True),
        col("currency", "VARCHAR", True),
        col("amount", MONEY, True),
        col("line_count", "BIGINT", True),
        col("attribution_id", "VARCHAR", True),
    ),
    doc="what no rule could place, per resource, with the reason (the tagging worklist)",
)

ALLOCATION_BASES = Table(
    "allocation_bases",
    (
        col("month", "DATE", True),
        col("rule_id", "VARCHAR", True),
        col("model_id", "VARCHAR", True),
        col("basis", "VARCHAR", True),
        col("unit", "VARCHAR"),
        col("quantity", "DOUBLE"),
        col("usage_quantity", "DOUBLE"),
        col("share", "DOUBLE"),
        col("attribution_id", "VARCHAR", True),
    ),
    doc="what each shared pool was split by: the allocation and the usage quantity per model",
)

AMORTIZED_COSTS = Table(
    "amortized_costs",
    (
        col("incurred_month", "DATE", True),
        col("month", "DATE", True),
        col("model_id", "VARCHAR", True),
        col("rule_id", "VARCHAR", True),
        col("provider", "VARCHAR", True),
        col("currency", "VARCHAR", True),
        col("amount", MONEY, True),
        col("attribution_id", "VARCHAR", True),
    ),
    doc="training cost spread over a model's declared life, by the month it was incurred",
)

USAGE_COSTS = Table(
    "usage_costs",
    (
        col("month", "DATE", True),
        col("model_id", "VARCHAR", True),
        col("provider", "VARCHAR", True),
        col("currency", "VARCHAR", True),
        col("amount", MONEY, True),
        col("requests", "BIGINT", True),
        col("input_tokens", "BIGINT", True),
        col("output_tokens", "BIGINT", True),
        col("unpriced_requests", "BIGINT", True),
        col("reason", "VARCHAR", True),
        col("load_ids", "VARCHAR[]", True),
        col("attribution_id", "VARCHAR", True),
    ),
    doc="LLM usage with no bill in the warehouse, priced as the gateway reported",
)

ATTRIBUTED_MONTHS = Table(
    "_attributed_months",
    (
        col("month", "DATE", True),
        col("inputs", "VARCHAR", True),
        col("rules", "VARCHAR", True),
        col("attribution_id", "VARCHAR", True),
    ),
    primary_key=("month",),
    unique=True,
    doc="what each attributed month was computed from (incremental attribution)",
)

ATTRIBUTION_TABLES = (
    PORTFOLIO_MODELS,
    ALLOCATED_COSTS,
    ATTRIBUTION_CONFLICTS,
    UNALLOCATED_COSTS,
    ALLOCATION_BASES,
    AMORTIZED_COSTS,
    USAGE_COSTS,
    ATTRIBUTED_MONTHS,
)
