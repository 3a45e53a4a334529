"""Table contracts: every warehouse table's columns, types, keys and checks, written down once.

A `Table` is the single definition a table's other shapes derive from:
- its DuckDB DDL (`Table.ddl`), which the migrations' result is tested against (migrations are
  append-only history; the contract is the current shape);
- its pandera schema for loaded tables (`roi.schemas` builds it from `required` columns,
  column `checks` and `row_checks`);
- how connectors write it (`primary_key`, `replace_by`, `coalesce`);
- its Polars and Arrow schemas, for frames the engine builds and files `cost_lines` is kept in.

`cost_lines` is stored as Parquet files beside the DuckDB file (see `roi.cost_store`), so it is
a view: the files, the view over them and the empty view of a new warehouse all derive from
its contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import polars as pl
import pyarrow as pa

MONEY = "DECIMAL(38,10)"
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")  # FOCUS ChargeCategory


@dataclass(frozen=True)
class Check:
    """A check on one column's values: `isin`, `ge`, `in_range`, `matches` or `finite`."""

    kind: Literal["isin", "ge", "in_range", "matches", "finite"]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class RowCheck:
    """A check across columns: rows where `rule` is false fail, blaming `column`."""

    column: str
    rule: pl.Expr
    message: str


@dataclass(frozen=True)
class Column:
    """One column: DuckDB type, whether a value is required, and its checks."""

    name: str
    type: str
    required: bool = False
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Table:
    """A warehouse table's contract."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()  # rows are deduplicated and merged on it
    replace_by: tuple[str, ...] = ()  # or: partitions replaced wholesale by a newer delivery
    coalesce: tuple[str, ...] = ()  # columns a null never overwrites when rows merge
    row_checks: tuple[RowCheck, ...] = ()
    unique: bool = False  # whether `primary_key` is a PRIMARY KEY constraint in DuckDB
    doc: str = ""

    @property
    def types(self) -> MappingProxyType[str, str]:
        """Column name → DuckDB type, in order."""
        return MappingProxyType({c.name: c.type for c in self.columns})

    def ddl(self) -> str:
        """CREATE TABLE for the contract (tests compare migrated warehouses to it)."""
        cols = [f'"{c.name}" {c.type}' + (" NOT NULL" if c.required else "") for c in self.columns]
        if self.unique and self.primary_key:
            cols.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in self.primary_key) + ")")
        return f"CREATE TABLE {self.name} ({', '.join(cols)})"

    def polars_schema(self, exclude: tuple[str, ...] = ()) -> dict[str, pl.DataType]:
        """The Polars schema of the table's rows (MAPs: lists of key/value structs)."""
        return {c.name: polars_type(c.type) for c in self.columns if c.name not in exclude}

    def empty(self, exclude: tuple[str, ...] = ()) -> pl.DataFrame:
        """A frame with the table's columns and no rows."""
        return pl.DataFrame(schema=self.polars_schema(exclude))


def col(name: str, kind: str, required: bool = False, *checks: Check) -> Column:
    """A column (shorthand for the contracts below)."""
    return Column(name, kind, required, checks)


def _lineage(row_required: bool = True) -> tuple[Column, ...]:
    return (
        col("source_file", "VARCHAR", True),
        col("source_row", "BIGINT", row_required),
        col("_load_id", "VARCHAR", True),
    )


def _order(start: str, end: str, strict: bool) -> RowCheck:
    rule = pl.col(end) > pl.col(start) if strict else pl.col(end) >= pl.col(start)
    op = "after" if strict else "at or after"
    return RowCheck(end, rule, f"{end} must be {op} {start}")


NON_NEGATIVE = Check("ge", (0,))
UNIT_INTERVAL = Check("in_range", (0, 1))

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
        *_lineage(),
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
        _order("billing_period_start", "billing_period_end", strict=True),
        _order("charge_period_start", "charge_period_end", strict=False),
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
        col("cost_source", "VARCHAR", True),
        col("price_version", "VARCHAR"),
        *_lineage(),
    ),
    primary_key=("request_id",),
    row_checks=(
        RowCheck(
            "cached_input_tokens",
            pl.col("cached_input_tokens") + pl.col("cache_write_tokens") <= pl.col("input_tokens"),
            "cached and cache-write tokens exceed input tokens (they are part of it)",
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
        *_lineage(row_required=False),
    ),
    primary_key=("cluster", "gpu_uuid", "interval_start", "pod"),
    coalesce=("utilization", "memory_used_bytes", "power_watts"),
    row_checks=(_order("interval_start", "interval_end", strict=True),),
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
        *_lineage(),
    ),
    primary_key=("kpi", "model_id", "segment", "period_start", "period_end", "experiment_id"),
    row_checks=(_order("period_start", "period_end", strict=True),),
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
        *_lineage(),
    ),
    primary_key=("model_id", "metric", "ts", "model_version"),
    doc="a model quality metric (AUC, F1, NDCG, ...) at a time",
)

LOADED_TABLES = (COST_LINES, INFERENCE_USAGE, GPU_USAGE, KPI_VALUES, MODEL_METRICS)

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

# Every table with a contract (bookkeeping tables such as _loads keep their DDL in migrations).
CONTRACTS: MappingProxyType[str, Table] = MappingProxyType(
    {t.name: t for t in (*LOADED_TABLES, *ATTRIBUTION_TABLES, *VALUE_TABLES, *SCENARIO_TABLES)}
)

_POLARS: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "VARCHAR[]": pl.List(pl.String()),
    "DATE": pl.Date(),
    "JSON": pl.String(),
    "BOOLEAN": pl.Boolean(),
    MONEY: pl.Decimal(38, 10),
    "TIMESTAMPTZ": pl.Datetime("us", "UTC"),
    "DOUBLE": pl.Float64(),
    "INTEGER": pl.Int32(),
    "BIGINT": pl.Int64(),
}
_ARROW: dict[str, pa.DataType] = {
    "VARCHAR": pa.large_string(),
    MONEY: pa.decimal128(38, 10),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "DOUBLE": pa.float64(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "MAP(VARCHAR, VARCHAR)": pa.map_(pa.string(), pa.string()),
}
TAG_ENTRY = pl.Struct({"key": pl.String(), "value": pl.String()})


def polars_type(duckdb_type: str) -> pl.DataType:
    """The Polars type a column of `duckdb_type` is built with (MAPs: a list of key/value)."""
    if duckdb_type.startswith("MAP"):
        return pl.List(TAG_ENTRY)
    return _POLARS[duckdb_type]


def arrow_schema(table: Table) -> pa.Schema:
    """The Arrow (and Parquet) schema of a table contract."""
    return pa.schema([(c.name, _ARROW[c.type]) for c in table.columns])


def empty_select(table: Table) -> str:
    """SQL for a relation with the contract's columns and no rows."""
    return (
        "SELECT "
        + ", ".join(f'CAST(NULL AS {c.type}) AS "{c.name}"' for c in table.columns)
        + " WHERE false"
    )
