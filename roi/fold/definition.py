"""The fold, once: Ibis expressions over a table with `cost_lines`' columns.

`billing_fold` is the query attribution starts from, `source_totals` the one reconciliation
compares with; `to_sql` compiles either for an engine's SQL dialect. The expressions use only
what means the same on every engine Ibis compiles for: month truncation in UTC (DuckDB and
Spark sessions are set to UTC), ranges of UTC timestamps for the months chosen, exact DECIMAL
sums, `count(*)`, and the tag text as stored (`tags_raw`, else the JSON of the `tags` map on
engines that have maps). Tag values are read afterwards, once per distinct tag text, on the
machine running roi (`roi.attribution.ledger`), so no JSON function of any engine is relied on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import ibis
import ibis.expr.datatypes as dt
from ibis.expr.types import BooleanValue, Table

from roi.tables import COST_LINES

MonthFilter = date | tuple[date, ...] | None

# The columns the fold reads: the input contract for a folder, table or view on any engine.
FOLD_COLUMNS = (
    "billing_period_start",
    "charge_period_start",
    "provider",
    "sub_account_id",
    "resource_id",
    "charge_category",
    "commitment_discount_status",
    "service_category",
    "service_name",
    "x_instance_type",
    "x_gpu_count",
    "consumed_unit",
    "consumed_quantity",
    "tags_raw",
    "tags",
    "billing_currency",
    "effective_cost",
    "billed_cost",
    "source_file",
    "_load_id",
)
# Group columns of the fold, in order (then `source_file` when by file, then the sums).
GROUP_COLUMNS = (
    "month",
    "provider",
    "sub_account_id",
    "resource_id",
    "charge_category",
    "commitment_discount_status",
    "service_category",
    "service_name",
    "instance_type",
    "has_gpu",
    "tags_text",
    "currency",
    "_load_id",
)

_IBIS_TYPES = {
    "VARCHAR": "string",
    "TIMESTAMPTZ": "timestamp('UTC')",
    "DECIMAL(38,10)": "decimal(38, 10)",
    "DOUBLE": "float64",
    "INTEGER": "int32",
    "BIGINT": "int64",
    "MAP(VARCHAR, VARCHAR)": "map<string, string>",
}


def ibis_type(duckdb_type: str) -> dt.DataType:
    """The Ibis type of a contract column type."""
    return dt.dtype(_IBIS_TYPES[duckdb_type])


def cost_lines_table(name: str = "cost_lines", tags_map: bool = True) -> Table:
    """An unbound table with the columns the fold reads, typed as in the `cost_lines` contract.

    `tags_map`: whether the table has the `tags` map (DuckDB and Spark do; a BigQuery,
    Snowflake or Trino table gives the tag text in `tags_raw`).
    """
    types = COST_LINES.types
    schema = {c: ibis_type(types[c]) for c in FOLD_COLUMNS if tags_map or c != "tags"}
    return ibis.table(schema, name=name)


_TO_JSON = ((dt.Map(dt.string, dt.string),), dt.json)


@ibis.udf.scalar.builtin(name="to_json", signature=_TO_JSON)  # type: ignore[untyped-decorator]
def _to_json(tags: Any) -> Any:  # DuckDB's and Spark's to_json of a map
    """The JSON text of a tag map (only where a line has no tag text of its own)."""


def _utc(day: date) -> Any:
    return ibis.literal(
        datetime(day.year, day.month, day.day, tzinfo=UTC), type=dt.Timestamp(timezone="UTC")
    )


def next_month(month: date) -> date:
    """The first day of the month after `month`."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def in_months(column: Any, months: MonthFilter) -> BooleanValue | None:
    """Rows of `column` (a UTC timestamp) in `months`, as ranges (None: every month).

    Ranges, not the truncated month compared: engines skip row groups and partitions by them.
    """
    if months is None:
        return None
    chosen = (months,) if isinstance(months, date) else months
    if not chosen:
        return ibis.literal(False)
    ranges = [(column >= _utc(m)) & (column < _utc(next_month(m))) for m in chosen]
    out = ranges[0]
    for more in ranges[1:]:
        out = out | more
    return out


def _month_column(month_basis: str) -> str:
    return "billing_period_start" if month_basis == "billing_period" else "charge_period_start"


def _chosen(source: Table, month_basis: str, months: MonthFilter) -> Table:
    condition = in_months(source[_month_column(month_basis)], months)
    return source if condition is None else source.filter(condition)


def billing_fold(
    source: Table,
    month_basis: str,
    months: MonthFilter = None,
    quantities: bool = False,
    by_file: bool = False,
) -> Table:
    """Billing lines folded into line groups: one row per distinct combination of what the
    rules read and the load (lineage), with exact sums and the line count.

    `by_file` groups by the source file as well: for lines read where they live, whose files
    no manifest lists (roi's warehouse lists each load's files per billing period, so its
    groups need not carry them, and the fold is 10 % faster for it). With `quantities`,
    groups also keep the unit of measure and its summed quantity.
    """
    lines = _chosen(source, month_basis, months)
    when = lines[_month_column(month_basis)]
    tags_text = lines.tags_raw
    if "tags" in lines.columns:  # a CASE, not coalesce: DuckDB would JSON every map
        tags_text = ibis.cases(
            (lines.tags_raw.isnull() & lines.tags.notnull(), _to_json(lines.tags).cast(str)),
            else_=lines.tags_raw,
        )
    groups: dict[str, Any] = {
        "month": when.truncate("M").cast("date"),
        "provider": lines.provider,
        "sub_account_id": lines.sub_account_id,
        "resource_id": lines.resource_id,
        "charge_category": lines.charge_category,
        "commitment_discount_status": lines.commitment_discount_status,
        "service_category": lines.service_category,
        "service_name": lines.service_name,
        "instance_type": lines.x_instance_type,
        "has_gpu": lines.x_gpu_count.coalesce(0) > 0,
        "tags_text": tags_text,
        "currency": lines.billing_currency,
        "_load_id": lines._load_id,
    }
    if by_file:
        groups["source_file"] = lines.source_file
    sums: dict[str, Any] = {
        "amount": lines.effective_cost.sum(),
        "billed_amount": lines.billed_cost.sum(),
        "line_count": lines.count(),
    }
    if quantities:
        groups["consumed_unit"] = lines.consumed_unit
        sums["quantity"] = lines.consumed_quantity.sum()
    if month_basis != "billing_period":
        return lines.aggregate(by=[v.name(k) for k, v in groups.items()], **sums)
    # A billing period starts a month, so lines are grouped by that instant first (a cheap
    # key) and months are truncated on the groups, not on every line: truncating a UTC
    # timestamp to its month follows time-zone rules, and took half of DuckDB's fold of 10M
    # lines. Periods of one month that start at different instants are summed together.
    keys = {"period_start": when, **{k: v for k, v in groups.items() if k != "month"}}
    periods = lines.aggregate(by=[v.name(k) for k, v in keys.items()], **sums)
    month = periods.period_start.truncate("M").cast("date").name("month")
    return periods.aggregate(
        by=[month, *(periods[k] for k in keys if k != "period_start")],
        amount=periods.amount.sum(),
        billed_amount=periods.billed_amount.sum(),
        line_count=periods.line_count.sum(),
        **({"quantity": periods.quantity.sum()} if quantities else {}),
    )


def source_totals(source: Table, month_basis: str, months: MonthFilter = None) -> Table:
    """Per month and currency: the billed and effective totals and the line count of the
    source (what attribution must account for, to the cent)."""
    lines = _chosen(source, month_basis, months)
    return lines.aggregate(
        by=[
            lines[_month_column(month_basis)].truncate("M").cast("date").name("month"),
            lines.billing_currency.name("currency"),
        ],
        billed=lines.billed_cost.sum(),
        effective=lines.effective_cost.sum(),
        lines=lines.count(),
    )


# Ibis's dialect names for the engines and warehouses roi compiles the fold for.
DIALECTS: Mapping[str, str] = {
    "duckdb": "duckdb",
    "spark": "pyspark",
    "databricks": "databricks",
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "trino": "trino",
    "athena": "athena",
}


class _SparkOptions(ibis.config.Config):  # type: ignore[misc]
    """What Ibis's Spark compiler reads (set by its PySpark backend, which needs pyspark)."""

    treat_nan_as_null: bool = False


def to_sql(expr: Table, engine: str, pretty: bool = True) -> str:
    """The expression as one SQL query in `engine`'s dialect."""
    if engine == "spark" and ibis.options.pyspark is None:
        ibis.options.pyspark = _SparkOptions()
    return str(ibis.to_sql(expr, dialect=DIALECTS[engine], pretty=pretty))
