"""OpenCost's allocation API, fetched from a local server replaying its response shape and
read from the same response saved: fractional GPU requests, `__idle__`, NaN as null."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from roi import pipeline
from roi.config import load_project
from roi.context import Context
from tests.replay import Replay, Reply, serving


def allocation(name: str, gpus: float, usage: float | None, cost: float) -> dict[str, Any]:
    namespace, pod = name.split("/")
    return {
        "name": name,
        "properties": {
            "cluster": "prod-gpu",
            "node": "gpu-node-1",
            "namespace": namespace,
            "controller": pod.rsplit("-", 2)[0],
            "pod": pod,
            "labels": {"app": pod.rsplit("-", 2)[0], "app_kubernetes_io_team": "ml"},
        },
        "window": {"start": "2026-10-01T00:00:00Z", "end": "2026-10-02T00:00:00Z"},
        "start": "2026-10-01T00:00:00Z",
        "end": "2026-10-02T00:00:00Z",
        "minutes": 1440,
        "gpuCount": gpus,
        "gpuRequestAverage": gpus,
        "gpuUsageAverage": usage,
        "gpuHours": gpus * 24,
        "gpuCost": cost,
        "gpuCostAdjustment": 0,
        "gpuEfficiency": None if usage is None else usage / gpus,
        "cpuCost": 1.2,
        "ramCost": 0.4,
        "totalCost": cost + 1.6,
    }


IDLE = {
    "name": "__idle__",
    "properties": {"cluster": "prod-gpu"},
    "start": "2026-10-01T00:00:00Z",
    "end": "2026-10-02T00:00:00Z",
    "minutes": 1440,
    "gpuHours": 0,
    "gpuCost": 41.28,
    "totalCost": 55.0,
}
BODY: dict[str, Any] = {
    "code": 200,
    "status": "success",
    "data": [
        {
            "llm/vllm-serve-7d9f8b6c5d-x2k4p": allocation(
                "llm/vllm-serve-7d9f8b6c5d-x2k4p", 2.5, 1.0, 412.8
            ),
            "ml/embedder-5c6d7e8f9a-q1w2e": allocation(
                "ml/embedder-5c6d7e8f9a-q1w2e", 0.5, None, 82.56
            ),
            "web/frontend-6b7c8d9e0f-a1s2d": allocation(
                "web/frontend-6b7c8d9e0f-a1s2d", 0, None, 0
            ),
            "__idle__": IDLE,
        }
    ],
}


def _project(tmp_path: Path, location: str) -> Path:
    root = tmp_path / "p"
    (root / "connectors").mkdir(parents=True)
    (root / "roi.toml").write_text('[project]\nname = "k8s"\n')
    (root / "connectors/opencost.toml").write_text(
        f'type = "opencost"\n{location}\n\n[options]\nstart = "2026-10-01"\nuntil = "2026-10-02"\n'
    )
    return root


def _rows(root: Path) -> list[tuple[Any, ...]]:
    return pipeline.query(
        Context(load_project(root)),
        "SELECT gpu_uuid, interval_start, cluster, node, namespace, workload, pod, labels, "
        "gpu_share, utilization, source FROM gpu_usage ORDER BY gpu_uuid",
    ).rows()


def test_gpu_allocations_fetched_and_saved_load_the_same(tmp_path: Path) -> None:
    with serving(Replay({"/allocation/compute": [Reply(BODY)]})) as server:
        live = _project(tmp_path / "live", f'url = "{server.url}"')
        pipeline.load(Context(load_project(live)))
    assert server.seen[0].query["window"] == ["2026-10-01T00:00:00Z,2026-10-02T00:00:00Z"]
    assert server.seen[0].query["includeIdle"] == ["true"]
    rows = _rows(live)
    allocations = [a for n, a in BODY["data"][0].items() if n != "__idle__"]
    # GPU-hours held: the requests, fractions kept (never rounded up to a whole GPU).
    held = sum(r[8] * 24 for r in rows)
    assert held == sum(a["gpuHours"] for a in allocations)
    assert sorted({r[6] for r in rows}) == [
        "embedder-5c6d7e8f9a-q1w2e",
        "vllm-serve-7d9f8b6c5d-x2k4p",
    ]
    assert sorted(r[8] for r in rows) == [0.5, 0.5, 1.0, 1.0]
    serve = [r for r in rows if r[5] == "vllm-serve"]
    assert {r[9] for r in serve} == {1.0 / 2.5}  # usage over request
    assert {r[9] for r in rows if r[5] == "embedder"} == {None}  # NaN (null) stays unknown
    assert {r[7]["app_kubernetes_io_team"] for r in rows} == {"ml"}

    saved = tmp_path / "allocation.json"
    saved.write_text(json.dumps(BODY))
    files = _project(tmp_path / "files", f'path = "{saved}"')
    pipeline.load(Context(load_project(files)))
    assert _rows(files) == rows
