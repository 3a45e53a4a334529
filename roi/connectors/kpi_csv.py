"""Business KPIs as a long CSV → `kpi_values`.

Header: `kpi,period_start,period_end,model_id,segment,value,unit`.

`period_end` is exclusive (the first day of the next period), like FOCUS periods. Optional
columns: `n`, `std_dev`, `experiment_id`. An empty `model_id` is a company-level KPI and an
empty `segment` means `all`.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample
from roi.loading.parsing import parse_columns, read_table_csv
from roi.loading.protocol import Batch
from roi.tables import KPI_VALUES

KPI_KINDS = {
    "period_start": "date",
    "period_end": "date",
    "value": "float",
    "n": "int",
    "std_dev": "float",
}
OPTIONAL = ("model_id", "segment", "unit", "n", "std_dev", "experiment_id")


def finish_kpis(frame: pl.DataFrame) -> Batch:
    """Fill optional KPI columns and parse types."""
    frame = frame.with_columns(
        [pl.lit(None, pl.String).alias(c) for c in OPTIONAL if c not in frame.columns]
    ).with_columns(segment=pl.col("segment").fill_null("all"))
    parsed = parse_columns(
        frame, KPI_KINDS, required=("kpi", "period_start", "period_end", "value")
    )
    return Batch(parsed.frame, parsed.rejects)


@register
class KpiCsv(FileConnector):
    """Long-format KPI CSV files."""

    type_name = "kpi_csv"
    table = KPI_VALUES
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".csv.gz", ".parquet")
    description = (
        "business KPIs as CSV: kpi, period_start, period_end, model_id, segment, value, unit"
    )

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """KPI file columns."""
        if sample.has("kpi", "period_start", "period_end", "value"):
            return "KPI columns (kpi, period_start, period_end, value)"
        return None

    def read_file(self, path: Path, relative: str) -> Batch:
        """Parse one KPI CSV."""
        raw = read_table_csv(
            path,
            relative,
            ("kpi", "period_start", "period_end", "value"),
            "expected header kpi,period_start,period_end,model_id,segment,value,unit",
        )
        return finish_kpis(raw)
