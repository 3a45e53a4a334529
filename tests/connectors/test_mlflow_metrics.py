"""Model metrics from a real MLflow tracking server (SQLite backend) on 127.0.0.1: two versions'
metric histories and a stage transition, loaded with their versions and the deployment; decay
measured between the versions."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roi import pipeline
from roi.context import Context
from roi.errors import SourceError
from roi.scenarios.baseline import DAYS_PER_MONTH
from roi.scenarios.decay import fit_decay, metric_history
from tests.conftest import missing

pytestmark = [pytest.mark.service, pytest.mark.slow]  # starts an MLflow server (~15 s)

DAILY_DROP = 0.002  # AUC points a day, in both versions
DAYS = 60
STARTS = {"1": datetime(2026, 6, 1, tzinfo=UTC), "2": datetime(2026, 8, 1, tzinfo=UTC)}
FIRST_AUC = {"1": 0.91, "2": 0.94}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mlflow server` on a free port with a SQLite store, holding model fraud-detector."""
    folder = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    mlflow = Path(sys.executable).parent / "mlflow"
    if not mlflow.exists():
        missing("the mlflow command is not installed (pip install -e '.[dev]')")
    server = subprocess.Popen(
        [
            str(mlflow),
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder}/mlflow.db",
            "--default-artifact-root",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the MLflow server did not start within a minute")
        _log_two_versions(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _log_two_versions(url: str) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=url, registry_uri=url)
    experiment = client.create_experiment("fraud")
    client.create_registered_model("fraud-detector")
    for version, start in STARTS.items():
        run = client.create_run(experiment).info.run_id
        for day in range(DAYS):
            when = start + timedelta(days=day)
            auc = FIRST_AUC[version] - DAILY_DROP * day
            client.log_metric(run, "auc", auc, timestamp=int(when.timestamp() * 1000), step=day)
        client.log_metric(run, "f1", 0.5, timestamp=int(start.timestamp() * 1000))
        client.set_terminated(run)
        client.create_model_version("fraud-detector", f"runs:/{run}/model", run_id=run)
    client.transition_model_version_stage("fraud-detector", "2", "Production")


def test_metric_histories_and_the_deployment_load_by_version(
    mlflow_server: str, tmp_path: Path
) -> None:
    ctx = Context.for_warehouse(tmp_path / "w.duckdb", tmp_path)
    options = {"models": '{"fraud-detector" = "fraud-detection"}', "metrics": '["auc"]'}
    result = pipeline.ingest(ctx, "mlflow_metrics", mlflow_server, options=options)
    assert result.rows_loaded == 2 * DAYS + 1
    rows = pipeline.query(
        Context.for_warehouse(tmp_path / "w.duckdb"),
        "SELECT model_version, metric, count(*), min(ts), max(value) FROM model_metrics "
        "WHERE model_id = 'fraud-detection' GROUP BY ALL ORDER BY ALL",
    ).rows()
    assert [(v, m, n) for v, m, n, _, _ in rows] == [
        ("1", "auc", DAYS),
        ("2", "auc", DAYS),
        ("2", "deployment", 1),
    ]
    assert rows[0][3] == STARTS["1"] and rows[1][4] == pytest.approx(FIRST_AUC["2"])
    # Loading again with nothing new on the server changes nothing.
    again = pipeline.ingest(ctx, "mlflow_metrics", mlflow_server, options=options)
    assert not again.changed
    with ctx.reader() as con:
        history = metric_history(con, "fraud-detection", "auc")
    per_month, low, high, _ = fit_decay(history, True, 0.9, 4)
    assert per_month == pytest.approx(DAILY_DROP * DAYS_PER_MONTH, rel=1e-6)
    assert low <= per_month <= high


def test_a_server_that_is_not_there_is_one_error(tmp_path: Path) -> None:
    ctx = Context.for_warehouse(tmp_path / "w.duckdb", tmp_path)
    with pytest.raises(SourceError, match=r"cannot reach MLflow at http://127\.0\.0\.1:1 "):
        pipeline.ingest(ctx, "mlflow_metrics", "http://127.0.0.1:1")
    assert not (tmp_path / "w.duckdb").exists()
