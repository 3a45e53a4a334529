"""`nvidia-smi --query-gpu=... --format=csv` logs → `gpu_usage`.

One file per host (the file name is the node unless `options.node` says otherwise). Headers
carry units (`utilization.gpu [%]`), values carry unit suffixes (`37 %`, `9871 MiB`), fields are
separated by ", ", and unsupported values print `[N/A]`. Each sample covers the time up to the
next sample of the same GPU (the last one: the median sampling interval).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector, TableSpec
from roi.connectors.parsing import null_if_token, parse_columns
from roi.errors import SourceError

MIB = 1024 * 1024
NEEDED = ("timestamp", "uuid")


def _header(name: str) -> str:
    return re.sub(r"\s*\[.*\]$", "", name.strip())


def _number(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.split(" ").list.first()


@register
class NvidiaSmiCsv(FileConnector):
    """nvidia-smi CSV query logs."""

    type_name = "nvidia_smi"
    table = TableSpec("gpu_usage", ("cluster", "gpu_uuid", "interval_start", "pod"))
    description = "nvidia-smi --query-gpu CSV logs (one file per host)"

    def read_file(self, path: Path, relative: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Parse one host's nvidia-smi log."""
        raw = pl.read_csv(path, infer_schema=False, separator=",", quote_char=None)
        raw = raw.rename({c: _header(c) for c in raw.columns})
        missing = [c for c in NEEDED if c not in raw.columns]
        if missing:
            raise SourceError(f"{relative}: missing column(s) {', '.join(missing)}; log with "
                              "--query-gpu=timestamp,index,uuid,name,utilization.gpu,memory.used --format=csv")
        raw = raw.with_columns(pl.col(c).str.strip_chars() for c in raw.columns)
        raw = raw.with_columns(null_if_token(raw.columns))
        node = str(self.option("node", path.name.split(".")[0]))
        workloads = dict(self.option("workloads", {}))
        frame = raw.select(
            pl.col("timestamp").alias("interval_start"),
            pl.col("uuid").alias("gpu_uuid"),
            pl.col("index").alias("gpu_index") if "index" in raw.columns else pl.lit(None, pl.String).alias("gpu_index"),
            pl.col("name").alias("gpu_model") if "name" in raw.columns else pl.lit(None, pl.String).alias("gpu_model"),
            _number("utilization.gpu").alias("utilization") if "utilization.gpu" in raw.columns else pl.lit(None, pl.String).alias("utilization"),
            _number("memory.used").alias("memory_used_mib") if "memory.used" in raw.columns else pl.lit(None, pl.String).alias("memory_used_mib"),
            _number("power.draw").alias("power_watts") if "power.draw" in raw.columns else pl.lit(None, pl.String).alias("power_watts"),
        ).with_columns(
            source_file=pl.lit(relative),
            source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        )
        parsed = parse_columns(
            frame,
            {"interval_start": "utc", "gpu_index": "int", "utilization": "float",
             "memory_used_mib": "float", "power_watts": "float"},
            required=("interval_start", "gpu_uuid"),
        )
        out = parsed.frame.sort("gpu_uuid", "interval_start").with_columns(
            _next=pl.col("interval_start").shift(-1).over("gpu_uuid")
        )
        step = out.select((pl.col("_next") - pl.col("interval_start")).dt.total_seconds().median()).item()
        step = int(self.option("interval_seconds", step or 60))
        out = out.with_columns(
            interval_end=pl.coalesce(pl.col("_next"), pl.col("interval_start") + pl.duration(seconds=step)),
            utilization=pl.col("utilization") / 100,
            memory_used_bytes=(pl.col("memory_used_mib") * MIB).round(0).cast(pl.Int64),
            gpu_index=pl.col("gpu_index").cast(pl.Int32),
            cluster=pl.lit(str(self.option("cluster", "standalone"))),
            node=pl.lit(node),
            namespace=pl.lit(None, pl.String),
            pod=pl.lit(None, pl.String),
            workload=pl.lit(workloads.get(node), pl.String),
            gpu_share=pl.lit(1.0),
            source=pl.lit("nvidia-smi"),
        ).drop("_next", "memory_used_mib")
        return out, parsed.rejects
