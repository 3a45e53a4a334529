"""The DCGM connector against a real Prometheus (Debian's package), backfilled with the sample's
October telemetry: querying it live gives exactly what the saved responses give."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from roi import pipeline
from roi.config import load_project
from roi.context import Context
from roi.errors import SourceError
from tests.conftest import REPO, missing

pytestmark = pytest.mark.service

MONTH = "2026-10"
METRICS = ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_DEV_FB_USED")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def openmetrics(month: str) -> str:
    """The sample's saved query_range responses for `month` as OpenMetrics text for promtool."""
    lines = []
    for metric in METRICS:
        path = REPO / f"sample_data/gpu/dcgm/{metric}_{month}.json.gz"
        body = json.loads(gzip.decompress(path.read_bytes()))
        lines.append(f"# TYPE {metric} gauge")
        for series in body["data"]["result"]:
            labels = ",".join(
                f'{k}="{_escape(v)}"'
                for k, v in sorted(series["metric"].items())
                if k != "__name__"
            )
            for ts, value in series["values"]:
                lines.append(f"{metric}{{{labels}}} {value} {ts}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not binary or not promtool:
        missing("Prometheus is not installed (apt-get install prometheus)")
    assert binary and promtool
    work = tmp_path_factory.mktemp("prometheus")
    (work / "dcgm.om").write_text(openmetrics(MONTH))
    subprocess.run(
        [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            # One block per month or so, not one per two hours: 16 s → 0.2 s for a month.
            "--max-block-duration=768h",
            str(work / "dcgm.om"),
            str(work / "data"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (work / "prometheus.yml").write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            binary,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=100y",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(work / "prometheus.log").open("w"),
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(
                "Prometheus did not become ready: " + (work / "prometheus.log").read_text()[-2000:]
            )
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _project(tmp_path: Path, url: str) -> Path:
    root = tmp_path / "live"
    (root / "connectors").mkdir(parents=True)
    (root / "roi.toml").write_text('[project]\nname = "live"\n')
    (root / "connectors/dcgm_live.toml").write_text(
        f'type = "dcgm_prometheus"\nurl = "{url}"\n\n[options]\ncluster = "ml-shared-gpu"\n'
        f'step_seconds = 3600\nstart = "{MONTH}-01"\nuntil = "2026-11-01"\nwindow_hours = 72\n'
    )
    return root


COMPARE = (
    "SELECT interval_start, interval_end, node, gpu_uuid, gpu_model, namespace, pod, workload, "
    "gpu_share, round(utilization, 6), memory_used_bytes FROM gpu_usage ORDER BY ALL"
)


@pytest.mark.slow
def test_live_prometheus_matches_the_saved_responses(prometheus: str, tmp_path: Path) -> None:
    root = _project(tmp_path, prometheus)
    config = load_project(root)
    [live] = pipeline.load(Context(config))
    assert live.rows_loaded > 5_000 and live.files == 3  # one lineage entry per metric queried

    saved = tmp_path / "saved"
    saved.mkdir()
    for metric in METRICS:
        shutil.copy(REPO / f"sample_data/gpu/dcgm/{metric}_{MONTH}.json.gz", saved)
    pipeline.ingest(
        Context.for_warehouse(tmp_path / "files.duckdb", tmp_path),
        "dcgm_prometheus",
        str(saved),
        options={"cluster": "ml-shared-gpu", "step_seconds": 3600},
    )

    from_prometheus = pipeline.query(Context.for_warehouse(config.warehouse_path), COMPARE).rows()
    from_files = pipeline.query(Context.for_warehouse(tmp_path / "files.duckdb"), COMPARE).rows()
    assert len(from_prometheus) == live.rows_loaded
    assert from_prometheus == from_files

    # The cursor moved to `until`: the next load queries nothing and changes nothing.
    [again] = pipeline.load(Context(config))
    assert not again.changed


def test_unreachable_prometheus_is_a_clear_error_without_credentials(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://scraper:hunter2@127.0.0.1:{port}"  # on the command line, never in a TOML
    config = load_project(_project(tmp_path, f"http://127.0.0.1:{port}"))
    with pytest.raises(SourceError) as err:
        pipeline.load(Context(config))
    assert re.match(
        r"cannot reach Prometheus at http://127\.0\.0\.1:\d+ \(.*\); check the connector's url",
        str(err.value),
    )
    with pytest.raises(SourceError) as err:
        pipeline.ingest(
            Context.for_warehouse(tmp_path / "i.duckdb", tmp_path), "dcgm_prometheus", url
        )
    assert "hunter2" not in str(err.value) and "scraper" not in str(err.value)
    assert not (tmp_path / "i.duckdb").exists()  # a failed first load creates no warehouse
