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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample, UrlMatch, url_path_match
from roi.connectors.dcgm import workload_of
from roi.connectors.http_api import HttpApi, Retry, parse_json
from roi.connectors.prometheus import parse_instant
from roi.errors import SourceError
from roi.loading.csv_text import read_bytes
from roi.loading.protocol import Batch, Extracted
from roi.loading.tags import TagKeyClash, tag_json
from roi.progress import Progress
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
class OpenCost(FileConnector):
    """GPU allocations from OpenCost."""

    type_name = "opencost"
    table = GPU_USAGE
    description = "Kubernetes GPU allocations from the OpenCost allocation API (url or saved JSON)"
    suffixes = (".json", ".json.gz")
    reads_urls = True
    key_secret = "token"
    Options = OpenCostOptions

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

    def read_file(self, path: Path, relative: str) -> Batch:
        """One saved allocation response."""
        body = parse_json(read_bytes(path, relative), relative, _HINT)
        return Batch(rows_frame(response_rows(body, relative, self.options.cluster), relative))

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Query the allocation API (`url`) or read changed saved responses (`path`)."""
        if not self.config.url:
            return super().extract(state, progress)  # saved responses: changed files only
        start, end = self._window(state)
        if start >= end:  # the last load reached the end of the window: nothing new yet
            return Extracted(batches=iter(()), files=[], cursor=dict(state or {}))
        options = self.options
        token = self.config.secret("token") if "token" in self.config.secret_env else None
        api = HttpApi(
            self.config.url,
            {"Authorization": f"Bearer {token}"} if token else {},
            name="OpenCost",
            check="check the connector's url (OpenCost's API, port 9003) and that it is running",
            retry=Retry(options.retries, options.backoff, 60.0, options.timeout),
            secrets=(token or "",),
        )
        params = [
            ("window", f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"),
            ("step", options.step),
            ("includeIdle", "true"),
            *([("aggregate", options.aggregate)] if options.aggregate else []),
        ]
        body = api.get("/allocation/compute", params)
        where = f"{api.shown('/allocation/compute')}#{self.config.name}"
        frame = rows_frame(response_rows(body, where, options.cluster), where)
        return Extracted(
            batches=iter([Batch(frame)]), files=[where], cursor={"until": end.isoformat()}
        )

    def _window(self, state: Mapping[str, Any] | None) -> tuple[datetime, datetime]:
        options = self.options
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        end = parse_instant(options.until, "options.until") if options.until else today
        if state and state.get("until"):
            start = datetime.fromisoformat(str(state["until"]))
        elif options.start:
            start = parse_instant(options.start, "options.start")
        else:
            start = end - timedelta(days=7)
        return start, end
