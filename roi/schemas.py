"""pandera schemas, one per warehouse table that connectors load.

They check meaning, after the connector has parsed types: required values, allowed categories,
ranges and period order. Validation runs lazily (all failures) on a collected Polars frame;
each failure becomes a `_rejects` row naming file, row and column.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from roi.connectors.parsing import REJECT_COLUMNS
from roi.tables import CHARGE_CATEGORIES


def _required(*names: str) -> dict[str, pa.Column]:
    return {n: pa.Column(nullable=False, required=True) for n in names}


# Row-level checks across columns: their message → the column a reject names.
ROW_CHECK_COLUMNS: dict[str, str] = {}


def row_check(column: str, rule: pl.Expr, message: str) -> pa.Check:
    """A dataframe check that fails the rows where `rule` is false, blaming `column`."""
    ROW_CHECK_COLUMNS[message] = column

    def check(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(rule.fill_null(True))

    return pa.Check(check, name=message, error=message)


def _period_order(start: str, end: str, strict: bool) -> pa.Check:
    rule = pl.col(end) > pl.col(start) if strict else pl.col(end) >= pl.col(start)
    op = "after" if strict else "at or after"
    return row_check(end, rule, f"{end} must be {op} {start}")


COST_LINES = pa.DataFrameSchema(
    {
        **_required(
            "provider",
            "billing_account_id",
            "billing_period_start",
            "billing_period_end",
            "charge_period_start",
            "charge_period_end",
            "billed_cost",
            "effective_cost",
        ),
        "charge_category": pa.Column(nullable=False, checks=pa.Check.isin(CHARGE_CATEGORIES)),
        "billing_currency": pa.Column(nullable=False, checks=pa.Check.str_matches(r"^[A-Z]{3}$")),
    },
    checks=[
        _period_order("billing_period_start", "billing_period_end", strict=True),
        _period_order("charge_period_start", "charge_period_end", strict=False),
    ],
    name="cost_lines",
)

INFERENCE_USAGE = pa.DataFrameSchema(
    {
        **_required("request_id", "ts", "model", "currency", "cost_source"),
        **{
            n: pa.Column(nullable=False, checks=pa.Check.ge(0))
            for n in (
                "requests",
                "input_tokens",
                "cached_input_tokens",
                "cache_write_tokens",
                "output_tokens",
            )
        },
        "cost": pa.Column(nullable=True, checks=pa.Check.ge(0)),
    },
    checks=[
        row_check(
            "cached_input_tokens",
            pl.col("cached_input_tokens") + pl.col("cache_write_tokens") <= pl.col("input_tokens"),
            "cached and cache-write tokens exceed input tokens (they are part of it)",
        )
    ],
    name="inference_usage",
)

GPU_USAGE = pa.DataFrameSchema(
    {
        **_required("interval_start", "interval_end", "cluster", "node", "gpu_uuid", "source"),
        "gpu_share": pa.Column(nullable=False, checks=pa.Check.in_range(0, 1)),
        "utilization": pa.Column(nullable=True, checks=pa.Check.in_range(0, 1)),
        "memory_used_bytes": pa.Column(nullable=True, checks=pa.Check.ge(0)),
    },
    checks=[_period_order("interval_start", "interval_end", strict=True)],
    name="gpu_usage",
)

KPI_VALUES = pa.DataFrameSchema(
    {
        **_required("kpi", "period_start", "period_end", "segment", "value"),
        "n": pa.Column(nullable=True, checks=pa.Check.ge(0)),
        "std_dev": pa.Column(nullable=True, checks=pa.Check.ge(0)),
    },
    checks=[_period_order("period_start", "period_end", strict=True)],
    name="kpi_values",
)

MODEL_METRICS = pa.DataFrameSchema(
    {
        **_required("model_id", "metric", "ts"),
        "value": pa.Column(
            nullable=False,
            checks=pa.Check(lambda d: d.lazyframe.select(pl.col(d.key).is_finite()), name="finite"),
        ),
    },
    name="model_metrics",
)

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "cost_lines": COST_LINES,
    "inference_usage": INFERENCE_USAGE,
    "gpu_usage": GPU_USAGE,
    "kpi_values": KPI_VALUES,
    "model_metrics": MODEL_METRICS,
}


def check_reason(check: str | None) -> str:
    """A pandera check name as a sentence a user can act on."""
    if check is None:
        return "failed validation"
    if check == "not_nullable":
        return "required value is missing"
    if check.startswith("isin("):
        return "not an allowed value; allowed: " + check[len("isin(") : -1]
    if check.startswith("str_matches("):
        return "wrong format; expected " + check[len("str_matches(") : -1]
    if check.startswith("greater_than_or_equal_to("):
        return "must be at least " + check[len("greater_than_or_equal_to(") : -1]
    if check.startswith("in_range("):
        low, high = check[len("in_range(") : -1].split(",")
        return f"must be between {low.strip()} and {high.strip()}"
    if check == "column_in_dataframe":
        return "column is missing from the file"
    return check


def validate(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Validate a parsed batch lazily; return reject records (empty when every row passes).

    Schema-level problems (a missing column) come back as a reject with a null row, which the
    loader reports as an error for the whole file.
    """
    from pandera.errors import SchemaErrors

    schema = SCHEMAS[table]
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        idx = cases.get_column("index").cast(pl.Int64, strict=False)
        rows = frame.select("source_file", "source_row").with_row_index("_i")
        failures = (
            cases.with_columns(_i=idx.cast(pl.UInt32, strict=False))
            .join(rows, on="_i", how="left")
            .select(
                pl.col("source_file").fill_null(frame.get_column("source_file").first()),
                pl.col("source_row"),
                pl.when(pl.col("column").cast(pl.String) == table)
                .then(pl.col("check").cast(pl.String).replace(ROW_CHECK_COLUMNS))
                .otherwise(pl.col("column").cast(pl.String))
                .alias("column"),
                pl.col("failure_case").cast(pl.String).alias("value"),
                pl.col("check").cast(pl.String).alias("reason"),
            )
        )
        reasons = {c: check_reason(c) for c in failures["reason"].unique().to_list()}
        failures = failures.with_columns(pl.col("reason").replace(reasons))
        return pl.DataFrame(failures.cast(dict(REJECT_COLUMNS)))
    return pl.DataFrame(schema=REJECT_COLUMNS)
