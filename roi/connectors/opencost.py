"""OpenCost allocation API (`/allocation/compute`) → `gpu_usage`.

Kubernetes GPU usage as OpenCost allocates it: each allocation of each set (one set per
`[options] step`) that requested GPUs becomes rows of `gpu_usage` for the set's window — one
per whole GPU requested and one for a fraction (a time-sliced or fractional request such as 0.5
is `gpu_share` 0.5, never rounded up). OpenCost knows no GPU UUIDs: a row's `gpu_uuid` is
`opencost:<allocation>#<n>`. Utilisation is `gpuUsageAverage / gpuRequestAverage` (0–1; null
when OpenCost had no DCGM usage metric). `__idle__` allocations are not workloads and are left
out: roi computes idle as the pool's capacity less what workloads held; `__unallocated__` ones
(no value for the aggregate label) are loaded with no workload name. JSON `null` (OpenCost's
NaN) counts as no value.

Read live (`url = "http://opencost.opencost:9003"`, optional `token_env` for a bearer token),
from the last load's window end (or `[options] start`) to now, or from saved responses
(`path`, `.json` / `.json.gz`), read when new or changed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from roi.connectors import register
from roi.connectors.base import SourceSample, UrlMatch, url_path_match
from roi.connectors.dcgm import workload_of
from roi.connectors.opencost_api import OpenCostApi, window_text
from roi.errors import SourceError
from roi.loading.protocol import Batch
from roi.loading.tags import TagKeyClash, tag_json
from roi.tables import GPU_USAGE

SKIPPED = ("__idle__", "__unmounted__")
_HINT = "save the body of GET /allocation/compute as OpenCost returned it"


@dataclass(frozen=True)
class OpenCostOptions:
    """`[options]` of an `opencost` connector."""

    cluster: str = "default"  # when an allocation names none
    aggregate: str | None = None  # OpenCost aggregate (default: none, one row per container)
    step: str = "1d"  # one set per step
    start: str | None = None  # first live load: ISO date (default: 7 days before now)
    until: str | None = None  # live: up to this ISO date (default: today, midnight UTC)
    timeout: float = 120.0
    retries: int = 5
    backoff: float = 1.0


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _gpus(alloc: Mapping[str, Any]) -> float:
    """GPUs an allocation requested on average over its window."""
    requested = _number(alloc.get("gpuRequestAverage"))
    if requested is None:
        hours, minutes = _number(alloc.get("gpuHours")), _number(alloc.get("minutes"))
        requested = hours / (minutes / 60) if hours and minutes else _number(alloc.get("gpuCount"))
    return max(requested or 0.0, 0.0)


def _shares(gpus: float) -> list[float]:
    whole = int(gpus + 1e-9)
    part = round(gpus - whole, 6)
    return [1.0] * whole + ([part] if part > 0 else [])


def allocation_rows(name: str, alloc: Mapping[str, Any], cluster: str) -> list[dict[str, Any]]:
    """The `gpu_usage` rows of one allocation (none when it requested no GPU)."""
    gpus = _gpus(alloc)
    if gpus <= 0:
        return []
    props = alloc.get("properties") or {}
    usage = _number(alloc.get("gpuUsageAverage"))
    utilization = None if usage is None else min(max(usage / gpus, 0.0), 1.0)
    pod = props.get("pod") or None
    labels = props.get("labels") or {}
    try:
        label_json = tag_json(sorted(labels.items())) if labels else None
    except TagKeyClash:
        label_json = None
    base = {
        "interval_start": alloc.get("start") or (alloc.get("window") or {}).get("start"),
        "interval_end": alloc.get("end") or (alloc.get("window") or {}).get("end"),
        "cluster": props.get("cluster") or cluster,
        "node": props.get("node") or "(unknown node)",
        "namespace": props.get("namespace") or None,
        "workload": None
        if "__unallocated__" in name
        else props.get("controller") or workload_of(pod),
        "pod": pod,
        "labels": label_json,
        "utilization": utilization,
    }
    return [
        {**base, "gpu_uuid": f"opencost:{name}#{n}", "gpu_share": share}
        for n, share in enumerate(_shares(gpus))
    ]


def response_rows(body: Any, where: str, cluster: str) -> list[dict[str, Any]]:
    """Every GPU row of an allocation response (all its sets)."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise SourceError(f"{where}: not an OpenCost allocation response (no data list); {_HINT}")
    if body.get("code", 200) != 200:
        raise SourceError(
            f"{where}: OpenCost answered code {body.get('code')} ({body.get('message', '')}); "
            "check the window and aggregate options"
        )
    rows: list[dict[str, Any]] = []
    for allocations in body["data"]:
        for name, alloc in (allocations or {}).items():
            if str(name).rsplit("/", 1)[-1] in SKIPPED or not isinstance(alloc, dict):
                continue
            rows.extend(allocation_rows(str(name), alloc, cluster))
    return rows


def rows_frame(rows: list[dict[str, Any]], where: str) -> pl.DataFrame:
    """Typed `gpu_usage` rows (lineage: the file or URL, rows numbered from 1)."""
    schema = {
        "interval_start": pl.String,
        "interval_end": pl.String,
        "cluster": pl.String,
        "node": pl.String,
        "namespace": pl.String,
        "workload": pl.String,
        "pod": pl.String,
        "labels": pl.String,
        "utilization": pl.Float64,
        "gpu_uuid": pl.String,
        "gpu_share": pl.Float64,
    }
    frame = pl.DataFrame(rows, schema=schema)
    times = {
        c: pl.col(c).str.to_datetime(time_zone="UTC", strict=False)
        for c in ("interval_start", "interval_end")
    }
    return frame.with_columns(
        **times,
        source=pl.lit("opencost"),
        source_file=pl.lit(where),
        source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
    )


@register
class OpenCost(OpenCostApi):
    """GPU allocations from OpenCost."""

    type_name = "opencost"
    table = GPU_USAGE
    description = "Kubernetes GPU allocations from the OpenCost allocation API (url or saved JSON)"
    Options = OpenCostOptions
    api_path = "/allocation/compute"
    saved_hint = _HINT

    @classmethod
    def recognises_url(cls, url: str) -> UrlMatch | None:
        """OpenCost's allocation API (`http://opencost.opencost:9003/allocation/compute`)."""
        found = url_path_match(url, "/allocation(?:/compute)?")
        if found is None:
            return None
        base, match = found
        return UrlMatch(f"the OpenCost allocation API ({match.group(0)})", base)

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """A saved allocation response."""
        doc = sample.document
        data = doc.get("data") if isinstance(doc, dict) else None
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        if any(isinstance(a, dict) and "gpuHours" in a for a in first.values()):
            return "an OpenCost allocation response (allocations with gpuHours)"
        return None

    def query(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """One set per `step`, idle allocations included."""
        aggregate = self.options.aggregate
        return [
            ("window", window_text(start, end)),
            ("step", self.options.step),
            ("includeIdle", "true"),
            *([("aggregate", aggregate)] if aggregate else []),
        ]

    def response_batch(self, body: Any, where: str) -> Batch:
        """One allocation response's GPU rows."""
        return Batch(rows_frame(response_rows(body, where, self.options.cluster), where))
