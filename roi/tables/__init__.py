"""Table contracts: every warehouse table's columns, types, keys and checks, written down once.

A `Table` is the single definition a table's other shapes derive from:
- its DuckDB DDL (`Table.ddl`), which the migrations' result is tested against (migrations are
  append-only history; the contract is the current shape);
- its pandera schema for loaded tables (`roi.loading.schemas` builds it from `required` columns,
  column `checks` and `row_checks`);
- how connectors write it (`primary_key`, `replace_by`, `coalesce`);
- its Polars and Arrow schemas, for frames the engine builds and files `cost_lines` is kept in.

`cost_lines` is stored as Parquet files beside the DuckDB file (`roi.warehouse.cost_store`),
so it is a view: the files, the view over them and the empty view of a new warehouse all derive from
its contract.
"""

from __future__ import annotations

from types import MappingProxyType

from roi.tables.attribution import (
    ALLOCATED_COSTS,
    ALLOCATION_BASES,
    AMORTIZED_COSTS,
    ATTRIBUTED_MONTHS,
    ATTRIBUTION_CONFLICTS,
    ATTRIBUTION_TABLES,
    PORTFOLIO_MODELS,
    UNALLOCATED_COSTS,
    USAGE_COSTS,
)
from roi.tables.contract import (
    CHARGE_CATEGORIES,
    MONEY,
    NON_NEGATIVE,
    TAG_ENTRY,
    UNIT_INTERVAL,
    Check,
    Column,
    RowCheck,
    Table,
    arrow_schema,
    col,
    empty_select,
    lineage,
    ordered,
    polars_type,
)
from roi.tables.loaded import (
    CONTRACT_COMMITMENTS,
    COST_LINES,
    COST_SOURCES,
    GPU_USAGE,
    INFERENCE_COSTS,
    INFERENCE_USAGE,
    KPI_VALUES,
    LOADED_TABLES,
    MODEL_METRICS,
    PROVIDER_INVOICES,
    SERVICE_TIERS,
)
from roi.tables.value import (
    KPI_SENSITIVITY,
    LLM_UNIT_COSTS,
    MODEL_ROI,
    MODEL_VALUE,
    SCENARIO_RUNS,
    SCENARIO_TABLES,
    VALUE_TABLES,
)

# Every table with a contract (bookkeeping tables such as _loads keep their DDL in migrations).
CONTRACTS: MappingProxyType[str, Table] = MappingProxyType(
    {t.name: t for t in (*LOADED_TABLES, *ATTRIBUTION_TABLES, *VALUE_TABLES, *SCENARIO_TABLES)}
)

__all__ = [
    "ALLOCATED_COSTS",
    "ALLOCATION_BASES",
    "AMORTIZED_COSTS",
    "ATTRIBUTED_MONTHS",
    "ATTRIBUTION_CONFLICTS",
    "ATTRIBUTION_TABLES",
    "CHARGE_CATEGORIES",
    "CONTRACTS",
    "CONTRACT_COMMITMENTS",
    "COST_LINES",
    "COST_SOURCES",
    "GPU_USAGE",
    "INFERENCE_COSTS",
    "INFERENCE_USAGE",
    "KPI_SENSITIVITY",
    "KPI_VALUES",
    "LLM_UNIT_COSTS",
    "LOADED_TABLES",
    "MODEL_METRICS",
    "MODEL_ROI",
    "MODEL_VALUE",
    "MONEY",
    "NON_NEGATIVE",
    "PORTFOLIO_MODELS",
    "PROVIDER_INVOICES",
    "SCENARIO_RUNS",
    "SCENARIO_TABLES",
    "SERVICE_TIERS",
    "TAG_ENTRY",
    "UNALLOCATED_COSTS",
    "UNIT_INTERVAL",
    "USAGE_COSTS",
    "VALUE_TABLES",
    "Check",
    "Column",
    "RowCheck",
    "Table",
    "arrow_schema",
    "col",
    "empty_select",
    "lineage",
    "ordered",
    "polars_type",
]
