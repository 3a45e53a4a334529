"""Model quality metric histories (`model_id,metric,ts,value,model_version`) → `model_metrics`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample
from roi.loading.parsing import parse_columns, read_table_csv
from roi.loading.protocol import Batch
from roi.tables import MODEL_METRICS

COLUMNS = ("model_id", "metric", "ts", "value")


@register
class ModelMetricsCsv(FileConnector):
    """Metric observations from a model registry or monitoring export."""

    type_name = "model_metrics_csv"
    # A champion and a challenger version can be scored at the same time.
    table = MODEL_METRICS
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".csv.gz", ".parquet")
    description = (
        "model quality metrics (AUC, F1, ...) over time: model_id, metric, ts, value, model_version"
    )

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """Model metric history columns."""
        if sample.has("model_id", "metric", "ts", "value"):
            return "model metric columns (model_id, metric, ts, value)"
        return None

    def read_file(self, path: Path, relative: str) -> Batch:
        """Parse one metrics CSV."""
        raw = read_table_csv(
            path, relative, COLUMNS, "expected model_id,metric,ts,value,model_version"
        )
        if "model_version" not in raw.columns:
            raw = raw.with_columns(model_version=pl.lit(None, pl.String))
        raw = raw.with_columns(metric=pl.col("metric").str.strip_chars().str.to_lowercase())
        parsed = parse_columns(raw, {"ts": "utc", "value": "float"}, required=COLUMNS)
        return Batch(parsed.frame, parsed.rejects)
