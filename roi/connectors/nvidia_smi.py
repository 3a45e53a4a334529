"""`nvidia-smi --query-gpu=... --format=csv` logs → `gpu_usage`.

One file per host (the file name is the node unless `options.node` says otherwise). Headers
carry units (`utilization.gpu [%]`), values carry unit suffixes (`37 %`, `9871 MiB`), fields are
separated by ", ", and unsupported values print `[N/A]`. Timestamps are the host's local time:
`options.timezone` (an IANA name such as "Europe/Berlin", default UTC) makes them UTC. Each
sample covers the time up to the next sample of the same GPU; the last sample of a log (or of a
run before the host was switched off) covers nothing, so a one-hour log is one hour of GPU time.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import polars as pl

from roi.config.typed import check
from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample
from roi.loading.csv_text import read_csv_text
from roi.loading.parsing import Parsed, null_if_token, parse_columns, require_columns
from roi.loading.protocol import Batch
from roi.loading.rejects import duplicate_key_rejects, reject_where
from roi.tables import GPU_USAGE

MIB = 1024 * 1024
NEEDED = ("timestamp", "uuid")


def _header(name: str) -> str:
    return re.sub(r"\s*\[.*\]$", "", name.strip())


def _text(raw: pl.DataFrame, col: str, alias: str, number: bool = False) -> pl.Expr:
    """A logged field as text (without its unit suffix when `number`), or null if not logged."""
    if col not in raw.columns:
        return pl.lit(None, pl.String).alias(alias)
    expr = pl.col(col).str.split(" ").list.first() if number else pl.col(col)
    return expr.alias(alias)


def _local_to_utc(frame: pl.DataFrame, zone: str) -> pl.Expr:
    """Local wall-clock `interval_start` (as parsed, labelled UTC) → the real UTC instant.

    At the autumn daylight-saving change the local hour repeats; samples are in file order, so a
    time not later than one already seen for the same GPU is the second pass (the later instant).
    """
    naive = pl.col("interval_start").dt.replace_time_zone(None)
    seen = naive.cum_max().shift(1).over("gpu_uuid", order_by="source_row")
    second_pass = (naive <= seen).fill_null(False)
    return (
        naive.dt.replace_time_zone(
            zone,
            ambiguous=pl.when(second_pass).then(pl.lit("latest")).otherwise(pl.lit("earliest")),
            non_existent="null",
        )
        .dt.convert_time_zone("UTC")
        .alias("interval_start")
    )


def _is_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class NvidiaSmiOptions:
    """`[options]` of an `nvidia_smi` connector."""

    cluster: str = "standalone"
    node: str | None = None  # default: the file name up to its first dot
    workloads: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    interval_seconds: float | None = field(default=None, metadata=check(lambda v: v > 0, "> 0"))
    timezone: str = field(
        default="UTC",
        metadata=check(_is_zone, 'an IANA time zone name, e.g. "Europe/Berlin" or "UTC"'),
    )


@register
class NvidiaSmiCsv(FileConnector):
    """nvidia-smi CSV query logs."""

    type_name = "nvidia_smi"
    table = GPU_USAGE
    description = "nvidia-smi --query-gpu CSV logs (one file per host)"
    Options = NvidiaSmiOptions

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """nvidia-smi --query-gpu columns."""
        if sample.has("timestamp", "uuid", "utilization.gpu"):
            return "nvidia-smi --query-gpu columns (timestamp, uuid, utilization.gpu)"
        return None

    def read_file(self, path: Path, relative: str) -> Batch:
        """Parse one host's nvidia-smi log."""
        parsed = _samples(_read_log(path, relative), relative)
        out, rejects = parsed.frame, parsed.rejects
        if self.options.timezone != "UTC":
            out, rejects = _local_to_utc_or_reject(out, rejects, self.options.timezone)
        # A sample time twice for one GPU: the same sample again counts once; two different
        # samples are a reject, never a silent choice.
        timed = out.filter(pl.col("interval_start").is_not_null())
        twice = duplicate_key_rejects(timed, ("gpu_uuid", "interval_start"))
        if twice.height:
            rejects = pl.concat([rejects, twice])
            out = out.join(twice.select("source_row"), on="source_row", how="anti")
        out = out.unique(["gpu_uuid", "interval_start"], keep="first", maintain_order=True)
        node = self.options.node or path.name.split(".")[0]
        held = _sample_and_hold(out, self.options.interval_seconds)
        return Batch(
            held.with_columns(
                cluster=pl.lit(self.options.cluster),
                node=pl.lit(node),
                namespace=pl.lit(None, pl.String),
                pod=pl.lit(None, pl.String),
                workload=pl.lit(dict(self.options.workloads).get(node), pl.String),
                gpu_share=pl.lit(1.0),
                source=pl.lit("nvidia-smi"),
            ),
            rejects,
        )


def _read_log(path: Path, relative: str) -> pl.DataFrame:
    """The log's text columns: placeholders (`[N/A]`) null, repeated header lines dropped."""
    raw = read_csv_text(path, relative, quote_char=None)
    raw = raw.rename({c: _header(c) for c in raw.columns})
    require_columns(
        raw,
        relative,
        NEEDED,
        "log with --query-gpu=timestamp,index,uuid,name,utilization.gpu,memory.used --format=csv",
    )
    text = [c for c in raw.columns if c != "source_row"]
    # `[N/A]`, `[Not Supported]`, `[Unknown Error]`: nvidia-smi's ways of saying "no value".
    raw = raw.with_columns(
        pl.when(pl.col(c).str.strip_chars().str.contains(r"^\[.*\]$"))
        .then(None)
        .otherwise(pl.col(c).str.strip_chars())
        .alias(c)
        for c in text
    )
    # Each `nvidia-smi -l` start appends its header again; those lines are not samples.
    return raw.with_columns(null_if_token(text)).filter(
        (pl.col("timestamp") != "timestamp").fill_null(True)
    )


def _samples(raw: pl.DataFrame, relative: str) -> Parsed:
    """One typed row per sample: time, GPU, utilisation (%), memory (MiB), power."""
    frame = raw.select(
        pl.col("timestamp").alias("interval_start"),
        pl.col("uuid").alias("gpu_uuid"),
        _text(raw, "index", "gpu_index"),
        _text(raw, "name", "gpu_model"),
        _text(raw, "utilization.gpu", "utilization", number=True),
        _text(raw, "memory.used", "memory_used_mib", number=True),
        _text(raw, "power.draw", "power_watts", number=True),
        pl.col("source_row"),
        source_file=pl.lit(relative),
    )
    return parse_columns(
        frame,
        {
            "interval_start": "utc",
            "gpu_index": "int",
            "utilization": "float",
            "memory_used_mib": "float",
            "power_watts": "float",
        },
        required=("interval_start", "gpu_uuid"),
    )


def _local_to_utc_or_reject(
    out: pl.DataFrame, rejects: pl.DataFrame, zone: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """nvidia-smi prints the host's local time: the log's zone makes it UTC; a local time the
    clock skipped (a daylight-saving change) is a reject."""
    local = out.get_column("interval_start")
    out = out.with_columns(_local_to_utc(out, zone))
    gap = out.filter(local.is_not_null() & pl.col("interval_start").is_null())
    if gap.height:
        skipped = reject_where(
            gap,
            pl.lit(True),
            "timestamp",
            pl.lit(None, pl.String),
            f"this local time does not exist in {zone} (the clock skipped it at "
            "a daylight-saving change); check options.timezone",
        )
        rejects = pl.concat([rejects, skipped])
    return out, rejects


def _sample_and_hold(out: pl.DataFrame, interval_seconds: float | None) -> pl.DataFrame:
    """Each sample as the interval to the next sample of its GPU, in `gpu_usage` units."""
    out = out.sort("gpu_uuid", "interval_start").with_columns(
        _gap=(
            pl.col("interval_start").shift(-1).over("gpu_uuid") - pl.col("interval_start")
        ).dt.total_microseconds()
        / 1e6
    )
    # The sampling interval (-l N): a low quantile, so nights the host was off do not count.
    typical = out.select(pl.col("_gap").quantile(0.25, "lower")).item()
    step = float(interval_seconds or typical or 60)
    # Sample and hold: a sample covers the time to the next one. The last sample of a run
    # (the end of the log, or before the host was off) covers nothing: the log says nothing
    # about how long the GPU ran after it, and counting a full interval would over-count
    # every log by one interval per GPU.
    continues = pl.col("_gap").is_not_null() & (pl.col("_gap") > 0) & (pl.col("_gap") <= 2 * step)
    return (
        out.filter(continues | pl.col("interval_start").is_null())
        .with_columns(
            interval_end=pl.col("interval_start")
            + pl.duration(microseconds=(pl.col("_gap") * 1e6).round(0).cast(pl.Int64)),
            utilization=pl.col("utilization") / 100,
            memory_used_bytes=(pl.col("memory_used_mib") * MIB).round(0).cast(pl.Int64),
            gpu_index=pl.col("gpu_index").cast(pl.Int32),
        )
        .drop("_gap", "memory_used_mib")
    )
