"""An export of MLflow runs (`mlflow.search_runs(...)` written as CSV or Parquet) → `model_metrics`.

For teams whose tracking server roi cannot reach: `mlflow.search_runs(experiment_names=[...])`
returns one row per run with `run_id`, `experiment_id`, `status`, `start_time`, `end_time`,
one `metrics.<key>` column per metric (its last logged value), `params.<key>` and
`tags.<key>` columns; `.to_csv(path)` or `.to_parquet(path)` writes it (pandas' index column,
if written, is ignored). Each finished run gives one `model_metrics` row per metric at the run's
end time. The model id comes from a tag (`[options] model_column`, default `tags.model_id`) or
a constant (`model`), the version from `version_column` (default `tags.model_version`, else the
run id), so decay is measured between versions. Runs that failed or still run are skipped: their
metrics are not a model's quality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample
from roi.errors import SourceError
from roi.loading.parsing import parse_columns, read_table_csv
from roi.loading.protocol import Batch
from roi.tables import MODEL_METRICS

METRIC_PREFIX = "metrics."
FINISHED = "FINISHED"


@dataclass(frozen=True)
class MlflowRunsOptions:
    """`[options]` of an `mlflow_runs` connector."""

    model: str | None = None  # one roi model id for every run in the export
    model_column: str = "tags.model_id"  # else: the column naming each run's model
    version_column: str = "tags.model_version"  # falls back to run_id when absent
    metrics: tuple[str, ...] = ()  # metric keys to load (default: every metrics.* column)


def _model(raw: pl.DataFrame, options: MlflowRunsOptions, relative: str) -> pl.Expr:
    if options.model is not None:
        return pl.lit(options.model)
    column = options.model_column.lower()
    if column not in raw.columns:
        raise SourceError(
            f"{relative}: no column {options.model_column!r} names each run's model; log the "
            "model id as a run tag (mlflow.set_tag('model_id', ...)), or set [options] "
            'model_column to the column that holds it, or model = "<model id>" for one model'
        )
    return pl.col(column)


def _metric_columns(raw: pl.DataFrame, options: MlflowRunsOptions, relative: str) -> list[str]:
    present = [c for c in raw.columns if c.startswith(METRIC_PREFIX)]
    if options.metrics:
        wanted = [METRIC_PREFIX + m.lower() for m in options.metrics]
        missing = [w for w in wanted if w not in present]
        if missing:
            raise SourceError(
                f"{relative}: no column {missing[0]!r}; the export's metrics are "
                f"{', '.join(present) or 'none'}; fix [options] metrics"
            )
        return wanted
    if not present:
        raise SourceError(
            f"{relative}: no metrics.<key> column; export the runs with mlflow.search_runs() "
            "(its metrics are columns named metrics.<key>)"
        )
    return present


@register
class MlflowRuns(FileConnector):
    """Model metrics from an export of MLflow runs."""

    type_name = "mlflow_runs"
    table = MODEL_METRICS
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".csv.gz", ".parquet")
    description = "model metrics from an export of MLflow runs (mlflow.search_runs to CSV/Parquet)"
    Options = MlflowRunsOptions

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """`run_id`, `experiment_id` and `metrics.*` columns."""
        metrics = any(c.lower().startswith(METRIC_PREFIX) for c in sample.columns)
        if sample.has("run_id", "experiment_id") and metrics:
            return "MLflow runs export columns (run_id, experiment_id, metrics.*)"
        return None

    def read_file(self, path: Path, relative: str) -> Batch:
        """One row per finished run and metric, at the run's end time."""
        raw = read_table_csv(
            path, relative, ("run_id",), "expected an export of mlflow.search_runs()"
        )
        raw = raw.drop([c for c in raw.columns if c in ("", "unnamed: 0", "index")])
        if "status" in raw.columns:
            raw = raw.filter(pl.col("status").is_null() | (pl.col("status") == FINISHED))
        time = [c for c in ("end_time", "start_time") if c in raw.columns]
        if not time:
            raise SourceError(f"{relative}: missing column end_time (or start_time)")
        version = self.options.version_column.lower()
        runs = raw.select(
            _model(raw, self.options, relative).alias("model_id"),
            pl.coalesce(time).alias("ts"),
            (pl.coalesce(version, "run_id") if version in raw.columns else pl.col("run_id")).alias(
                "model_version"
            ),
            *_metric_columns(raw, self.options, relative),
            "source_file",
            "source_row",
        )
        long = runs.unpivot(
            index=["model_id", "ts", "model_version", "source_file", "source_row"],
            variable_name="metric",
            value_name="value",
        ).filter(pl.col("value").is_not_null())
        long = long.with_columns(pl.col("metric").str.strip_prefix(METRIC_PREFIX))
        parsed = parse_columns(
            long, {"ts": "utc", "value": "float"}, required=("model_id", "ts", "value")
        )
        return Batch(parsed.frame, parsed.rejects)
