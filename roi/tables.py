"""Table contracts: a warehouse table's columns and types, written down once.

`cost_lines` is the first table defined here: it is stored as Parquet files beside the DuckDB
file (see `roi.connectors.cost_store`), so its schema cannot come from a CREATE TABLE; the files,
the view over them and the empty view of a new warehouse all derive from this contract.
"""

from __future__ import annotations

from types import MappingProxyType

import polars as pl
import pyarrow as pa

MONEY = "DECIMAL(38,10)"
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")  # FOCUS ChargeCategory

# cost_lines: one billing line, FOCUS-shaped, any provider (column → DuckDB type).
COST_LINES: MappingProxyType[str, str] = MappingProxyType(
    {
        "provider": "VARCHAR",
        "billing_account_id": "VARCHAR",
        "billing_account_name": "VARCHAR",
        "sub_account_id": "VARCHAR",
        "sub_account_name": "VARCHAR",
        "invoice_id": "VARCHAR",
        "billing_period_start": "TIMESTAMPTZ",
        "billing_period_end": "TIMESTAMPTZ",
        "charge_period_start": "TIMESTAMPTZ",
        "charge_period_end": "TIMESTAMPTZ",
        "charge_category": "VARCHAR",
        "charge_class": "VARCHAR",
        "charge_frequency": "VARCHAR",
        "charge_description": "VARCHAR",
        "pricing_category": "VARCHAR",
        "service_name": "VARCHAR",
        "service_category": "VARCHAR",
        "service_subcategory": "VARCHAR",
        "region_id": "VARCHAR",
        "resource_id": "VARCHAR",
        "resource_name": "VARCHAR",
        "resource_type": "VARCHAR",
        "sku_id": "VARCHAR",
        "sku_price_id": "VARCHAR",
        "sku_meter": "VARCHAR",
        "billed_cost": MONEY,
        "effective_cost": MONEY,
        "list_cost": MONEY,
        "contracted_cost": MONEY,
        "consumed_quantity": "DOUBLE",
        "consumed_unit": "VARCHAR",
        "pricing_quantity": "DOUBLE",
        "pricing_unit": "VARCHAR",
        "commitment_discount_id": "VARCHAR",
        "commitment_discount_type": "VARCHAR",
        "commitment_discount_category": "VARCHAR",
        "commitment_discount_status": "VARCHAR",
        "billing_currency": "VARCHAR",
        "tags": "MAP(VARCHAR, VARCHAR)",
        "tags_raw": "VARCHAR",
        "sku_price_details": "VARCHAR",
        "x_instance_type": "VARCHAR",
        "x_gpu_count": "INTEGER",
        "focus_version": "VARCHAR",
        "export": "VARCHAR",
        "delivery": "VARCHAR",
        "source_file": "VARCHAR",
        "source_row": "BIGINT",
        "_load_id": "VARCHAR",
    }
)

_POLARS: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
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


def arrow_schema(columns: MappingProxyType[str, str]) -> pa.Schema:
    """The Arrow (and Parquet) schema of a table contract."""
    return pa.schema([(name, _ARROW[kind]) for name, kind in columns.items()])


def empty_select(columns: MappingProxyType[str, str]) -> str:
    """SQL for a relation with the contract's columns and no rows."""
    return (
        "SELECT "
        + ", ".join(f'CAST(NULL AS {kind}) AS "{name}"' for name, kind in columns.items())
        + " WHERE false"
    )
