"""NVIDIA DCGM exporter metrics from Prometheus → `gpu_usage`.

Two ways in: a live Prometheus (`url = "http://prometheus:9090"`), queried with `query_range`
from the last load's cursor to now a window at a time (options `step_seconds`, `start` for the
first load, `window_hours`, `lag_seconds`, `until`, and `token_env` for a bearer token); or saved
`query_range` responses (`path`), JSON or gzip, one file per metric and period, e.g.
`DCGM_FI_PROF_GR_ENGINE_ACTIVE_2026-10.json.gz`. Each series is one GPU
(by `UUID`) running one pod; a series with an empty `pod` label is the GPU sitting idle. A MIG
slice (labels `GPU_I_ID`, `GPU_I_PROFILE`) is a fraction of its GPU: its compute slices over the
GPU's (`roi.connectors.mig`).
Accepts both `Hostname` and, after dcgm-exporter's 2026-05 rename, `hostname`, and the older
`pod_name` / `pod_namespace` labels. Values are strings and may be "NaN".

Utilisation comes from `DCGM_FI_PROF_GR_ENGINE_ACTIVE` (ratio, works on MIG) and falls back to
`DCGM_FI_DEV_GPU_UTIL` (percent); memory from `DCGM_FI_DEV_FB_USED` (MiB).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from roi.config import redact_url
from roi.config.typed import check
from roi.connectors import register
from roi.connectors.base import Connector, SourceSample, changed_files
from roi.connectors.dcgm_checks import MEMORY_METRIC as MEMORY_METRIC
from roi.connectors.dcgm_checks import UTILIZATION_METRICS as UTILIZATION_METRICS
from roi.connectors.dcgm_checks import check_samples
from roi.connectors.mig import check_profiles, combine_slices, slice_share
from roi.connectors.prometheus import floor_to_step, parse_instant, query_range
from roi.errors import SourceError
from roi.loading.csv_text import read_bytes
from roi.loading.parsing import map_distinct
from roi.loading.protocol import Batch, Extracted
from roi.loading.tags import TagKeyClash, tag_json
from roi.progress import Progress
from roi.tables import GPU_USAGE

MIB = 1024 * 1024
# Labels that become columns; every other label is kept in the `labels` map.
_KNOWN_LABELS = {
    "__name__",
    "UUID",
    "gpu",
    "modelName",
    "Hostname",
    "hostname",
    "pod",
    "pod_name",
    "namespace",
    "pod_namespace",
    "instance",
    "job",
    "device",
    "pci_bus_id",
    "DCGM_FI_DRIVER_VERSION",
}
_METRIC_IN_NAME = re.compile(r"DCGM_FI_[A-Z0-9_]+?(?=_\d{4}|\.json)")
# Kubernetes pod name = <deployment>-<replicaset hash>-<pod suffix>, or <statefulset>-<ordinal>.
_POD = re.compile(r"^(?P<w>.+?)(?:-[a-z0-9]{6,10}-[a-z0-9]{5}|-\d+)$")


def workload_of(pod: str | None) -> str | None:
    """The deployment/statefulset name a pod belongs to."""
    if not pod:
        return None
    match = _POD.match(pod)
    return match.group("w") if match else pod


def _read_json(path: Path, relative: str) -> Any:
    data = read_bytes(path, relative)  # gunzips; a broken gzip stream is named as such
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(
            f"{relative}: not a Prometheus JSON response ({exc}); save the body of "
            "GET /api/v1/query_range as it is"
        ) from exc


def series_rows(body: Any, relative: str) -> list[dict[str, Any]]:
    """Flatten a Prometheus `query_range` response into one row per series sample."""
    if not isinstance(body, dict) or body.get("status") != "success":
        status = body.get("status") if isinstance(body, dict) else type(body).__name__
        error = body.get("error") if isinstance(body, dict) else None
        raise SourceError(
            f"{relative}: Prometheus response status is {status!r} (error {error!r}); "
            "re-run the query"
        )
    data = body.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        data = data if isinstance(data, dict) else {}
        raise SourceError(
            f"{relative}: resultType {data.get('resultType')!r}; "
            "save a query_range (matrix) response"
        )
    rows: list[dict[str, Any]] = []
    result = data.get("result")
    if not isinstance(result, list) or not all(
        isinstance(x, dict) and isinstance(x.get("metric", {}), dict) for x in result
    ):
        raise SourceError(
            f"{relative}: data.result is not a list of series; save the query_range response "
            "as Prometheus returned it"
        )
    for series in result:
        labels: dict[str, str] = series.get("metric", {})
        try:
            extra = tag_json(
                (k, v) for k, v in sorted(labels.items()) if k not in _KNOWN_LABELS and v != ""
            )
        except TagKeyClash as exc:
            raise SourceError(
                f"{relative}: a series has {exc}; roi keeps labels without regard to case, so "
                "relabel one of them (metric_relabel_configs) and save the response again"
            ) from None
        base = {
            "metric": labels.get("__name__", ""),
            "gpu_uuid": labels.get("UUID"),
            "gpu_index": labels.get("gpu"),
            "gpu_model": labels.get("modelName"),
            "node": labels.get("hostname") or labels.get("Hostname") or labels.get("instance"),
            "pod": labels.get("pod") or labels.get("pod_name") or None,
            "namespace": labels.get("namespace") or labels.get("pod_namespace") or None,
            "labels": extra,
            "source_file": relative,
            "mig_profile": labels.get("GPU_I_PROFILE") or None,
            "mig_instance": labels.get("GPU_I_ID") or "",
        }
        for sample in series.get("values") or []:
            try:
                ts, value = sample
                rows.append(
                    {**base, "ts": float(ts), "value": None if value is None else str(value)}
                )
            except (TypeError, ValueError):
                raise SourceError(
                    f"{relative}: series {base['metric']} of GPU {base['gpu_uuid']} has a "
                    f'sample {str(sample)[:60]!r} that is not [timestamp, "value"]; save the '
                    "query_range response as Prometheus returned it"
                ) from None
    return rows


ROW_SCHEMA: dict[str, pl.DataType] = {
    "metric": pl.String(),
    "gpu_uuid": pl.String(),
    "gpu_index": pl.String(),
    "gpu_model": pl.String(),
    "node": pl.String(),
    "pod": pl.String(),
    "namespace": pl.String(),
    "labels": pl.String(),
    "source_file": pl.String(),
    "ts": pl.Float64(),
    "value": pl.String(),
    "mig_profile": pl.String(),
    "mig_instance": pl.String(),
}


# What a series is (beside its keys): the last file's labels win.
_IDENTITY = ("gpu_index", "gpu_model", "node", "namespace", "labels", "source_file", "mig_profile")


def to_intervals(
    rows: list[dict[str, Any]], cluster: str, step_seconds: int | None
) -> pl.DataFrame:
    """One `gpu_usage` row per GPU, pod and sample step from flattened DCGM samples."""
    raw = pl.DataFrame(rows, schema=ROW_SCHEMA).with_columns(
        number=pl.col("value").str.strip_chars().cast(pl.Float64, strict=False),
        interval_start=pl.from_epoch(
            pl.col("ts").round(0).cast(pl.Int64), time_unit="s"
        ).dt.replace_time_zone("UTC"),
    )
    # Prometheus writes a sample as a decimal string, or "NaN" for no value. Anything else
    # (text, infinities) is a broken export, not a missing sample.
    broken = raw.filter(
        pl.col("value").is_null() | pl.col("number").is_null() | (pl.col("number").is_infinite())
    )
    if broken.height:
        first = broken.row(0, named=True)
        when = first["interval_start"].strftime("%Y-%m-%dT%H:%M:%SZ")
        raise SourceError(
            f"{first['source_file']}: series {first['metric']} of GPU {first['gpu_uuid']} "
            f"(pod {first['pod'] or 'none'}) has the sample value {first['value']!r} at {when}, "
            f"which is not a number; {broken.height} such sample(s); save the query_range "
            "response as Prometheus returned it"
        )
    raw = raw.with_columns(value=pl.col("number").fill_nan(None)).drop("number")
    check_samples(raw)
    # One row per MIG slice first (a whole GPU is one slice), then per GPU, pod and interval.
    keys = ["gpu_uuid", "interval_start", "pod", "mig_instance"]
    scale = pl.col("metric").replace_strict(
        UTILIZATION_METRICS, default=None, return_dtype=pl.Float64
    )
    util = (
        raw.filter(pl.col("metric").is_in(list(UTILIZATION_METRICS)))
        .with_columns(utilization=pl.col("value") * scale)
        .sort("metric", descending=True)  # PROF_GR_ENGINE_ACTIVE before DEV_GPU_UTIL
        .unique(subset=keys, keep="first")
        .select(*keys, "utilization")
    )
    mem = raw.filter(pl.col("metric") == MEMORY_METRIC).select(
        *keys, (pl.col("value") * MIB).round(0).cast(pl.Int64).alias("memory_used_bytes")
    )
    ident = raw.sort("source_file").unique(subset=keys, keep="last").select(*keys, *_IDENTITY)
    slices = (
        ident.join(util, on=keys, how="left", nulls_equal=True)
        .join(mem, on=keys, how="left", nulls_equal=True)
        .with_columns(share=slice_share())
    )
    check_profiles(slices)
    frame = combine_slices(slices, keys[:-1])
    if step_seconds is None:
        gaps = (
            frame.sort("interval_start")
            .group_by("gpu_uuid", "pod")
            .agg(pl.col("interval_start").diff().dt.total_seconds().min().alias("gap"))
        )
        smallest = gaps["gap"].drop_nulls().min()
        step_seconds = int(smallest) if isinstance(smallest, int | float) and smallest > 0 else 60
    return map_distinct(frame, "pod", "workload", workload_of).with_columns(
        interval_end=pl.col("interval_start") + pl.duration(seconds=step_seconds),
        cluster=pl.lit(cluster),
        gpu_index=pl.col("gpu_index").cast(pl.Int32, strict=False),
        power_watts=pl.lit(None, pl.Float64),
        source=pl.lit("dcgm"),
        source_row=pl.lit(None, pl.Int64),
    )


_positive = check(lambda v: v > 0, "a number above 0")


@dataclass(frozen=True)
class DcgmOptions:
    """`[options]` of a `dcgm_prometheus` connector."""

    cluster: str = "default"
    step_seconds: int | None = field(default=None, metadata=_positive)  # files: inferred
    start: str | date | None = None  # live: where the first load starts (default: 7 days ago)
    until: str | date | None = None  # live: stop here instead of now
    window_hours: float = field(default=24.0, metadata=_positive)
    lag_seconds: int | None = field(default=None, metadata=check(lambda v: v >= 0, ">= 0"))
    metrics: tuple[str, ...] = (*UTILIZATION_METRICS, MEMORY_METRIC)


@register
class DcgmPrometheus(Connector):
    """DCGM exporter series exported from Prometheus."""

    type_name = "dcgm_prometheus"
    table = GPU_USAGE
    description = (
        "NVIDIA DCGM exporter metrics as Prometheus query_range JSON (GPU utilisation, memory)"
    )
    suffixes = (".json", ".json.gz")
    reads_urls = True
    key_secret = "token"
    Options = DcgmOptions

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """A Prometheus query_range response with dcgm-exporter series."""
        data = sample.document.get("data") if isinstance(sample.document, dict) else None
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list) and any(
            str(s.get("metric", {}).get("__name__", "")).startswith("DCGM_") for s in result
        ):
            return "a Prometheus query_range response with dcgm-exporter series"
        return None

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Query a live Prometheus (`url`), or read changed saved responses (`path`)."""
        if self.config.url:
            return self._extract_live(state, progress)
        return self._extract_files(state, progress)

    def _extract_live(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Query `query_range` from the last cursor to now, a window at a time."""
        assert self.config.url is not None
        url = self.config.url.rstrip("/")
        shown = redact_url(url)  # lineage and messages never carry credentials
        step = self.options.step_seconds or 300
        until = self.options.until
        lag = self.options.lag_seconds if self.options.lag_seconds is not None else 2 * step
        end = (
            parse_instant(str(until), "options.until")
            if until
            else datetime.now(UTC) - timedelta(seconds=lag)
        )
        end = floor_to_step(end, step)
        if state and state.get("until"):
            start = datetime.fromisoformat(str(state["until"]))
        elif self.options.start:
            start = floor_to_step(parse_instant(str(self.options.start), "options.start"), step)
        else:
            start = end - timedelta(days=7)
        window = timedelta(hours=self.options.window_hours)
        windows = []
        cursor = start
        while cursor < end:
            windows.append((cursor, min(cursor + window, end)))
            cursor += window
        token = self.config.secret("token") if "token" in self.config.secret_env else None
        cluster = self.options.cluster
        metrics = list(self.options.metrics)

        def batches() -> Iterator[Batch]:
            for first, last in progress.track(windows, f"{self.config.name}: querying"):
                rows: list[dict[str, Any]] = []
                for metric in metrics:
                    # query_range includes both ends: stop one step early, the next window
                    # starts there.
                    body = query_range(
                        url, metric, first, last - timedelta(seconds=step), step, token
                    )
                    rows.extend(series_rows(body, f"{shown}#{metric}"))
                if rows:
                    yield Batch(to_intervals(rows, cluster, step))

        return Extracted(
            batches=batches(),
            files=[f"{shown}#{m} {start.isoformat()}..{end.isoformat()}" for m in metrics]
            if windows
            else [],
            cursor={"until": end.isoformat()}
            if windows
            else dict(state or {"until": end.isoformat()}),
        )

    def _extract_files(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Read changed files, together with the other metrics of the same period."""
        files = self.input_files()
        changed, fingerprints = changed_files(files, state, self.relative)
        groups: dict[str, list[Path]] = defaultdict(list)
        for p in files:
            groups[_METRIC_IN_NAME.sub("", p.name)].append(p)
        wanted = sorted({_METRIC_IN_NAME.sub("", p.name) for p in changed})
        cluster = self.options.cluster
        step = self.options.step_seconds

        def batches() -> Iterator[Batch]:
            for period in progress.track(wanted, f"{self.config.name}: reading"):
                rows: list[dict[str, Any]] = []
                for path in groups[period]:
                    relative = self.relative(path)
                    rows.extend(series_rows(_read_json(path, relative), relative))
                if rows:
                    yield Batch(to_intervals(rows, cluster, int(step) if step else None))

        return Extracted(
            batches=batches(),
            files=[self.relative(p) for g in wanted for p in groups[g]],
            cursor={"files": fingerprints},
            skipped_files=len(files) - sum(len(groups[g]) for g in wanted),
            replaces_files=True,
        )
