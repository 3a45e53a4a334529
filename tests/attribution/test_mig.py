"""MIG slices count as their fraction of a GPU: one more A100 in the sample's shared cluster,
split by MIG between two models' pods, as dcgm-exporter labels the slices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from roi import pipeline
from roi.config import ProjectConfig
from roi.context import Context
from tests.helpers import copy_loaded, roi_cli

pytestmark = pytest.mark.slow

A100 = "GPU-9b3f2c1e-5a7d-4e8b-a1c2-7d3e9f0b4a61"
# (GPU_I_ID, GPU_I_PROFILE, namespace, pod): the fraud scorer on 3 of the A100's 7 compute
# slices, the search reranker on the other 4.
SLICES = (
    ("1", "3g.40gb", "payments-ml", "fraud-scorer-7c9d8f6b5-x2k4p"),
    ("2", "4g.40gb", "digital-ml", "search-reranker-5f6d7c8b9-q8w3z"),
)
HOURS = 744  # October 2026, hourly samples


def _labels(metric: str, instance: str, profile: str, namespace: str, pod: str) -> dict[str, str]:
    """A MIG slice's series labels as dcgm-exporter (2026-05 and later) writes them."""
    return {
        "__name__": metric,
        "gpu": "0",
        "UUID": A100,
        "pci_bus_id": "00000000:10:1C.0",
        "device": "nvidia0",
        "modelName": "NVIDIA A100-SXM4-80GB",
        "GPU_I_PROFILE": profile,
        "GPU_I_ID": instance,
        "hostname": "ip-10-42-3-51.ec2.internal",
        "DCGM_FI_DRIVER_VERSION": "570.133.20",
        "instance": "10.42.3.51:9400",
        "job": "dcgm-exporter",
        "container": pod.rsplit("-", 2)[0],
        "namespace": namespace,
        "pod": pod,
    }


def _write_responses(folder: Path) -> None:
    """Saved query_range responses for October 2026: utilisation and memory per slice."""
    folder.mkdir(parents=True)
    start = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())
    for metric, value in (
        ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "0.5"),
        ("DCGM_FI_DEV_FB_USED", "20000"),
    ):
        result = [
            {
                "metric": _labels(metric, *slice_),
                "values": [[start + 3600 * h, value] for h in range(HOURS)],
            }
            for slice_ in SLICES
        ]
        body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        (folder / f"{metric}_2026-10.json").write_text(json.dumps(body))


def _bases(path: Path) -> dict[str, float]:
    frame = pipeline.query(
        Context.for_warehouse(path),
        "SELECT model_id, quantity FROM allocation_bases "
        "WHERE month = '2026-10-01' AND rule_id = 'pool:eks-gpu'",
    )
    return dict(frame.iter_rows())


def test_mig_slices_are_their_fraction_of_the_gpu(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    project = copy_loaded(loaded_project, tmp_path / "project")
    warehouse = project / "roi.duckdb"
    before = _bases(warehouse)
    pool_cost = (
        "SELECT sum(amount) FROM allocated_costs WHERE month = '2026-10-01' "
        "AND rule_id = 'pool:eks-gpu'"
    )
    cost_before = pipeline.query(Context.for_warehouse(warehouse), pool_cost).item()
    _write_responses(project / "mig")
    ingest = roi_cli(
        "ingest", "dcgm_prometheus", "mig", "--option", "cluster=ml-shared-gpu",
        "--project", str(project), cwd=project,
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr
    attribute = roi_cli("attribute", "--project", str(project))
    assert attribute.returncode == 0, attribute.stderr

    # Each slice is its compute slices over the A100's 7, from the profile dcgm-exporter names.
    expected = {pod: int(profile.split("g.")[0]) / 7 for _, profile, _, pod in SLICES}
    rows = pipeline.query(
        Context.for_warehouse(warehouse),
        f"SELECT pod, min(gpu_share) AS low, max(gpu_share) AS high, count(*) AS n, "
        f"min(labels['gpu_i_profile']) AS profile FROM gpu_usage WHERE gpu_uuid = '{A100}' "
        "GROUP BY pod",
    )
    for pod, low, high, n, profile in rows.iter_rows():
        assert low == high == pytest.approx(expected[pod], rel=1e-12) and n == HOURS
        assert profile in {p for _, p, _, _ in SLICES}
    after = _bases(warehouse)
    # The A100 is held whole, 3/7 + 4/7: the cluster's idle GPU keeps its 744 idle hours.
    assert after["__idle__"] == pytest.approx(before["__idle__"], rel=1e-12)
    assert before["__idle__"] == pytest.approx(HOURS, rel=1e-9)
    fraud = after["fraud-detection"] - before["fraud-detection"]
    search = after["search-ranking"] - before["search-ranking"]
    assert fraud == pytest.approx(HOURS * 3 / 7, rel=1e-9)
    assert search == pytest.approx(HOURS * 4 / 7, rel=1e-9)
    # The money stays exact: the same pool cost, split to the cent, and reconcile passes.
    assert pipeline.query(Context.for_warehouse(warehouse), pool_cost).item() == cost_before
    idle = pipeline.query(
        Context.for_warehouse(warehouse),
        "SELECT sum(amount) FROM allocated_costs WHERE month = '2026-10-01' "
        "AND rule_id = 'pool:eks-gpu' AND model_id = '__idle__'",
    ).item()
    assert idle > 0
    reconcile = roi_cli("reconcile", "--month", "2026-10", "--project", str(project))
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr


def test_a_mig_profile_without_its_slices_is_an_error_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    _write_responses(folder)
    for path in folder.iterdir():
        path.write_text(path.read_text().replace('"3g.40gb"', '"three.40gb"'))
    project = tmp_path / "p"
    project.mkdir()
    result = roi_cli(
        "ingest", "dcgm_prometheus", str(folder), "--option", "cluster=c", "--project",
        str(project), "--warehouse", str(project / "roi.duckdb"),
    )  # fmt: skip
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "_2026-10.json" in line and A100 in line
    assert "GPU_I_PROFILE='three.40gb'" in line
