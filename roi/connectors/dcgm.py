"""NVIDIA DCGM exporter metrics from Prometheus → `gpu_usage`.

Reads Prometheus HTTP API `query_range` responses saved as JSON (one file per metric and
period, e.g. `DCGM_FI_PROF_GR_ENGINE_ACTIVE_2026-10.json`). Each series is one GPU (by `UUID`)
running one pod; a series with an empty `pod` label is the GPU sitting idle. Accepts both
`Hostname` and, after dcgm-exporter's 2026-05 rename, `hostname`, and the older `pod_name` /
`pod_namespace` labels. Values are strings and may be "NaN".
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from roi.connectors import register
from roi.connectors.base import Connector, Extracted, Progress, TableSpec, changed_files
from roi.connectors.parsing import list_files
from roi.errors import SourceError

UTILIZATION_METRICS = {
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": 1.0,
    "DCGM_FI_DEV_GPU_UTIL": 0.01,  # percent
}
MEMORY_METRIC = "DCGM_FI_DEV_FB_USED"  # MiB
MIB = 1024 * 1024
_METRIC_IN_NAME = re.compile(r"DCGM_FI_[A-Z0-9_]+?(?=_\d{4}|\.json$)")
# Kubernetes pod name = <deployment>-<replicaset hash>-<pod suffix>, or <statefulset>-<ordinal>.
_POD = re.compile(r"^(?P<w>.+?)(?:-[a-z0-9]{6,10}-[a-z0-9]{5}|-\d+)$")


def workload_of(pod: str | None) -> str | None:
    """The deployment/statefulset name a pod belongs to."""
    if not pod:
        return None
    match = _POD.match(pod)
    return match.group("w") if match else pod


def _series_rows(path: Path, relative: str) -> list[dict[str, Any]]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(f"{relative}: not a Prometheus JSON response ({exc}); save the body of "
                          "GET /api/v1/query_range as is") from exc
    if not isinstance(body, dict) or body.get("status") != "success":
        raise SourceError(f"{relative}: Prometheus response status is {body.get('status')!r}, "
                          f"error {body.get('error')!r}; re-run the query")
    data = body.get("data", {})
    if data.get("resultType") != "matrix":
        raise SourceError(f"{relative}: resultType {data.get('resultType')!r}; use query_range (matrix)")
    rows: list[dict[str, Any]] = []
    for series in data.get("result", []):
        labels: dict[str, str] = series.get("metric", {})
        name = labels.get("__name__", "")
        host = labels.get("hostname") or labels.get("Hostname") or labels.get("instance")
        pod = labels.get("pod") or labels.get("pod_name") or None
        namespace = labels.get("namespace") or labels.get("pod_namespace") or None
        for ts, value in series.get("values", []):
            rows.append({
                "metric": name, "ts": float(ts), "value": value, "gpu_uuid": labels.get("UUID"),
                "gpu_index": labels.get("gpu"), "gpu_model": labels.get("modelName"),
                "node": host, "pod": pod, "namespace": namespace,
            })
    return rows


@register
class DcgmPrometheus(Connector):
    """DCGM exporter series exported from Prometheus."""

    type_name = "dcgm_prometheus"
    table = TableSpec("gpu_usage", ("cluster", "gpu_uuid", "interval_start", "pod"))
    description = "NVIDIA DCGM exporter metrics as Prometheus query_range JSON (GPU utilisation, memory)"
    suffixes = (".json",)

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Read changed files, together with the other metrics of the same period."""
        assert self.config.path is not None
        files = list_files(self.root, self.config.path, self.suffixes)
        changed, fingerprints = changed_files(files, state, self.relative)
        groups: dict[str, list[Path]] = defaultdict(list)
        for p in files:
            groups[_METRIC_IN_NAME.sub("", p.name)].append(p)
        wanted = {_METRIC_IN_NAME.sub("", p.name) for p in changed}
        to_read = [p for g in sorted(wanted) for p in groups[g]]
        rows: list[dict[str, Any]] = []
        for i, path in enumerate(to_read, 1):
            progress(f"{self.config.name}: file {i}/{len(to_read)} {path.name}")
            rows.extend({**r, "source_file": self.relative(path)} for r in _series_rows(path, self.relative(path)))
        frame = self._intervals(rows) if rows else pl.DataFrame()
        return Extracted(frame=frame, files=[self.relative(p) for p in to_read],
                         cursor={"files": fingerprints}, skipped_files=len(files) - len(to_read))

    def _intervals(self, rows: list[dict[str, Any]]) -> pl.DataFrame:
        step = self.option("step_seconds")
        raw = pl.DataFrame(rows, infer_schema_length=None).with_columns(
            value=pl.col("value").cast(pl.Float64, strict=False),
            interval_start=pl.from_epoch(pl.col("ts").round(0).cast(pl.Int64), time_unit="s").dt.replace_time_zone("UTC"),
        ).with_columns(pl.when(pl.col("value").is_nan()).then(None).otherwise(pl.col("value")).alias("value"))
        keys = ["gpu_uuid", "interval_start", "pod"]
        util = raw.filter(pl.col("metric").is_in(list(UTILIZATION_METRICS))).with_columns(
            utilization=(pl.col("value") * pl.col("metric").replace_strict(UTILIZATION_METRICS, return_dtype=pl.Float64)).clip(0, 1)
        ).sort("metric", descending=True).unique(subset=keys, keep="first")
        mem = raw.filter(pl.col("metric") == MEMORY_METRIC).select(
            *keys, (pl.col("value") * MIB).round(0).cast(pl.Int64).alias("memory_used_bytes"))
        ident = raw.sort("source_file").unique(subset=keys, keep="last").select(
            *keys, "gpu_index", "gpu_model", "node", "namespace", "source_file")
        frame = ident.join(util.select(*keys, "utilization"), on=keys, how="left", nulls_equal=True).join(
            mem, on=keys, how="left", nulls_equal=True)
        if step is None:
            gaps = frame.sort("interval_start").group_by("gpu_uuid", "pod").agg(
                pl.col("interval_start").diff().dt.total_seconds().min().alias("gap"))
            step = int(gaps["gap"].drop_nulls().min() or 60)
        return frame.with_columns(
            interval_end=pl.col("interval_start") + pl.duration(seconds=int(step)),
            cluster=pl.lit(str(self.option("cluster", "default"))),
            gpu_index=pl.col("gpu_index").cast(pl.Int32, strict=False),
            workload=pl.col("pod").map_elements(workload_of, return_dtype=pl.String),
            gpu_share=pl.when(pl.col("pod").is_null()).then(0.0).otherwise(1.0),
            power_watts=pl.lit(None, pl.Float64),
            source=pl.lit("dcgm"),
            source_row=pl.lit(None, pl.Int64),
        )
