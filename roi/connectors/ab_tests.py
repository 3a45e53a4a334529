"""A/B test and holdout results → `kpi_values` (segment = variant).

CSV columns: `experiment_id,model_id,kpi,period_start,period_end,variant,units,mean,std_dev,unit`,
one row per experiment arm: `units` is the arm's sample size, `mean` the per-unit KPI.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample
from roi.connectors.kpi_csv import finish_kpis
from roi.loading.parsing import read_table_csv
from roi.loading.protocol import Batch
from roi.tables import KPI_VALUES

COLUMNS = (
    "experiment_id",
    "model_id",
    "kpi",
    "period_start",
    "period_end",
    "variant",
    "units",
    "mean",
)


@register
class AbTestCsv(FileConnector):
    """Experiment results per arm."""

    type_name = "ab_test_csv"
    table = KPI_VALUES
    description = (
        "A/B test results per arm: experiment_id, model_id, kpi, variant, units, mean, std_dev"
    )

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """Experiment result columns."""
        if sample.has("experiment_id", "variant", "units", "mean"):
            return "A/B test result columns (experiment_id, variant, units, mean)"
        return None

    def read_file(self, path: Path, relative: str) -> Batch:
        """Parse one experiment-results CSV."""
        raw = read_table_csv(path, relative, COLUMNS, f"expected {','.join(COLUMNS)},std_dev,unit")
        frame = raw.select(
            "kpi",
            "period_start",
            "period_end",
            "model_id",
            "experiment_id",
            pl.col("variant").str.strip_chars().str.to_lowercase().alias("segment"),
            pl.col("mean").alias("value"),
            pl.col("units").alias("n"),
            pl.col("std_dev")
            if "std_dev" in raw.columns
            else pl.lit(None, pl.String).alias("std_dev"),
            pl.col("unit") if "unit" in raw.columns else pl.lit(None, pl.String).alias("unit"),
            "source_file",
            "source_row",
        )
        return finish_kpis(frame)
