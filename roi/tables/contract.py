"""The machinery of table contracts: `Table`, its `Column`s and checks, and the DuckDB, Polars
and Arrow types a contract's columns map to. The contracts themselves are in `loaded`,
`attribution` and `value` (see `roi.tables`)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import polars as pl
import pyarrow as pa

from roi.vocabulary import MONEY as POLARS_MONEY
from roi.vocabulary import MONEY_SQL

MONEY = MONEY_SQL  # the column type of every amount
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
    restated: tuple[str, ...] = ()  # columns whose new value for a known key is a restatement
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


def lineage(row_required: bool = True) -> tuple[Column, ...]:
    return (
        col("source_file", "VARCHAR", True),
        col("source_row", "BIGINT", row_required),
        col("_load_id", "VARCHAR", True),
    )


def ordered(start: str, end: str, strict: bool) -> RowCheck:
    rule = pl.col(end) > pl.col(start) if strict else pl.col(end) >= pl.col(start)
    op = "after" if strict else "at or after"
    return RowCheck(end, rule, f"{end} must be {op} {start}")


NON_NEGATIVE = Check("ge", (0,))
UNIT_INTERVAL = Check("in_range", (0, 1))


_POLARS: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "VARCHAR[]": pl.List(pl.String()),
    "DATE": pl.Date(),
    "JSON": pl.String(),
    "BOOLEAN": pl.Boolean(),
    MONEY: POLARS_MONEY,
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
