"""pandera schemas, one per warehouse table that connectors load.

They check meaning, after the connector has parsed types: required values, allowed categories,
ranges and period order. Validation runs lazily (all failures) on a collected Polars frame;
each failure becomes a `_rejects` row naming file, row and column.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from roi.connectors.parsing import REJECT_COLUMNS

CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")


def _required(*names: str) -> dict[str, pa.Column]:
    return {n: pa.Column(nullable=False, required=True) for n in names}


def _period_order(start: str, end: str, strict: bool) -> pa.Check:
    def check(data: pa.PolarsData) -> pl.LazyFrame:
        cmp = pl.col(end) > pl.col(start) if strict else pl.col(end) >= pl.col(start)
        return data.lazyframe.select(cmp | pl.col(start).is_null() | pl.col(end).is_null())

    op = ">" if strict else ">="
    return pa.Check(check, name=f"{end} {op} {start}", error=f"{end} must be {op} {start}")


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
        pa.Check(
            lambda d: d.lazyframe.select(pl.col("cached_input_tokens") <= pl.col("input_tokens")),
            name="cached_input_tokens <= input_tokens",
            error="cached input tokens exceed input tokens (they are part of input)",
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
                pl.col("column").cast(pl.String),
                pl.col("failure_case").cast(pl.String).alias("value"),
                (pl.lit("failed check ") + pl.col("check").cast(pl.String)).alias("reason"),
            )
        )
        return pl.DataFrame(failures.cast(REJECT_COLUMNS))  # type: ignore[arg-type]
    return pl.DataFrame(schema=REJECT_COLUMNS)
