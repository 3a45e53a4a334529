"""Model metrics from an export of MLflow runs: runs logged with the real `mlflow` library
(SQLite store), exported with `mlflow.search_runs()` as pandas writes it (CSV with its index
column, and Parquet), loaded with the version from a run tag; failed runs skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from roi import pipeline
from roi.config import load_project
from roi.context import Context
from roi.errors import SourceError
from roi.start.detect import detect

pytestmark = pytest.mark.slow  # imports mlflow and creates its SQLite store (~10 s)

RUNS = [  # (model tag, version tag, status, metrics)
    ("fraud-detector", "1", "FINISHED", {"val_auc": 0.91, "val_f1": 0.72}),
    ("fraud-detector", "2", "FINISHED", {"val_auc": 0.94, "val_f1": 0.75}),
    ("fraud-detector", "3", "FAILED", {"val_auc": 0.12}),
    ("churn-model", "7", "FINISHED", {"val_auc": 0.81}),
]


@pytest.fixture(scope="module")
def runs_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    """(CSV, Parquet, the DataFrame) of `mlflow.search_runs()` over the logged runs."""
    mlflow = pytest.importorskip("mlflow")
    folder = tmp_path_factory.mktemp("mlflow-runs")
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    experiment = mlflow.create_experiment("fraud", artifact_location=str(folder / "artifacts"))
    for model, version, status, metrics in RUNS:
        with mlflow.start_run(experiment_id=experiment):
            mlflow.set_tags({"model_id": model, "model_version": version})
            mlflow.log_metrics(metrics)
            mlflow.log_param("learning_rate", 0.05)
            if status == "FAILED":
                mlflow.end_run(status="FAILED")
    frame = mlflow.search_runs(experiment_ids=[experiment])
    csv, parquet = folder / "runs.csv", folder / "runs.parquet"
    frame.to_csv(csv)  # pandas writes its index as the first, unnamed column
    frame.to_parquet(parquet)
    return csv, parquet, frame


def _project(tmp_path: Path, export: Path, options: str = "") -> Path:
    root = tmp_path / "runs"
    (root / "connectors").mkdir(parents=True, exist_ok=True)
    (root / "roi.toml").write_text('[project]\nname = "mlflow runs"\n')
    (root / "connectors/runs.toml").write_text(
        f'type = "mlflow_runs"\npath = "{export}"\n\n[options]\n{options}'
    )
    return root


def _metrics(root: Path) -> list[tuple[Any, ...]]:
    return pipeline.query(
        Context.for_warehouse(load_project(root).warehouse_path),
        "SELECT model_id, model_version, metric, round(value, 6), ts FROM model_metrics "
        "ORDER BY ALL",
    ).rows()


def _expected(frame: Any) -> list[tuple[Any, ...]]:
    """Each finished run's metrics at its end time, straight from the DataFrame."""
    rows = []
    for _, run in frame[frame["status"] == "FINISHED"].iterrows():
        for column in [c for c in frame.columns if c.startswith("metrics.")]:
            if run[column] == run[column]:  # not NaN
                rows.append(
                    (
                        run["tags.model_id"],
                        run["tags.model_version"],
                        column.removeprefix("metrics."),
                        round(float(run[column]), 6),
                        run["end_time"].to_pydatetime(),
                    )
                )
    return sorted(rows)


def test_runs_load_from_csv_and_parquet_alike(
    runs_export: tuple[Path, Path, Any], tmp_path: Path
) -> None:
    csv, parquet, frame = runs_export
    assert detect(csv).type == "mlflow_runs"
    root = _project(tmp_path / "csv", csv)
    pipeline.load(Context(load_project(root)))
    loaded = _metrics(root)
    assert loaded, "nothing loaded"
    assert [row[:4] for row in loaded] == [row[:4] for row in _expected(frame)]
    assert [row[4].timestamp() for row in loaded] == [
        row[4].timestamp() for row in _expected(frame)
    ]
    assert all(row[3] != 0.12 for row in loaded)  # the failed run is not a quality
    from_parquet = _project(tmp_path / "parquet", parquet)
    pipeline.load(Context(load_project(from_parquet)))
    assert _metrics(from_parquet) == loaded


def test_one_model_and_chosen_metrics(runs_export: tuple[Path, Path, Any], tmp_path: Path) -> None:
    csv, _, _ = runs_export
    root = _project(tmp_path, csv, 'model = "fraud-detection"\nmetrics = ["val_auc"]\n')
    pipeline.load(Context(load_project(root)))
    assert {(r[0], r[2]) for r in _metrics(root)} == {("fraud-detection", "val_auc")}
    assert len(_metrics(root)) == 3  # three finished runs


def test_a_missing_model_tag_says_how_to_name_the_model(
    runs_export: tuple[Path, Path, Any], tmp_path: Path
) -> None:
    csv, _, _ = runs_export
    root = _project(tmp_path, csv, 'model_column = "tags.owner"\n')
    with pytest.raises(SourceError, match=r"no column 'tags.owner' names each run's model"):
        pipeline.load(Context(load_project(root)))
