"""Model metrics from a real MLflow tracking server (SQLite backend) on 127.0.0.1: two versions'
metric histories and a stage transition, loaded with their versions and the deployment; decay
measured between the versions."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from roi import pipeline
from roi.context import Context
from roi.errors import SourceError
from roi.scenarios.baseline import DAYS_PER_MONTH
from roi.scenarios.decay import fit_decay, metric_history
from tests.conftest import missing

pytestmark = [pytest.mark.service, pytest.mark.slow]  # starts an MLflow server (~7 s)

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
        # Without its job runner: MLflow 3 otherwise starts seven more processes (huey
        # consumers for its GenAI jobs) that took two seconds of CPU each, racing the test.
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
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


def _post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One call of MLflow's REST API (what its Python client sends, without importing it:
    `import mlflow` alone took 5 s of this test's setup)."""
    request = urllib.request.Request(
        f"{url}/api/2.0/mlflow/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read() or b"{}")
    return answer


def _log_two_versions(url: str) -> None:
    experiment = _post(url, "experiments/create", {"name": "fraud"})["experiment_id"]
    _post(url, "registered-models/create", {"name": "fraud-detector"})
    for version, start in STARTS.items():
        started = int(start.timestamp() * 1000)
        created = _post(url, "runs/create", {"experiment_id": experiment, "start_time": started})
        run = created["run"]["info"]["run_id"]
        metrics = [
            {
                "key": "auc",
                "value": FIRST_AUC[version] - DAILY_DROP * day,
                "timestamp": int((start + timedelta(days=day)).timestamp() * 1000),
                "step": day,
            }
            for day in range(DAYS)
        ]
        metrics.append({"key": "f1", "value": 0.5, "timestamp": started, "step": 0})
        _post(url, "runs/log-batch", {"run_id": run, "metrics": metrics})
        _post(url, "runs/update", {"run_id": run, "status": "FINISHED"})
        _post(
            url,
            "model-versions/create",
            {"name": "fraud-detector", "source": f"runs:/{run}/model", "run_id": run},
        )
    _post(
        url,
        "model-versions/transition-stage",
        {
            "name": "fraud-detector",
            "version": "2",
            "stage": "Production",
            "archive_existing_versions": False,
        },
    )


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
