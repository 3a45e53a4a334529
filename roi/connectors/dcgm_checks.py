"""Checks of DCGM samples before they become GPU intervals: a series twice in one file with
other values, or a utilisation outside 0–100 %, is a broken export."""

from __future__ import annotations

import polars as pl

from roi.errors import SourceError

UTILIZATION_METRICS = {
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": 1.0,
    "DCGM_FI_DEV_GPU_UTIL": 0.01,  # percent
}
MEMORY_METRIC = "DCGM_FI_DEV_FB_USED"  # MiB


def check_samples(raw: pl.DataFrame) -> None:
    """A series twice in one file with other values, or a utilisation outside 0–100 %, is a
    broken export: an error, never a silent choice or a clamp."""
    series = ["source_file", "metric", "gpu_uuid", "pod", "labels", "interval_start"]
    clash = raw.filter(pl.struct(series).is_duplicated()).filter(
        pl.col("value").n_unique().over(series) > 1
    )
    if clash.height:
        first = clash.sort("interval_start").row(0, named=True)
        raise SourceError(
            f"{first['source_file']}: series {first['metric']} of GPU {first['gpu_uuid']} "
            f"(pod {first['pod'] or 'none'}) appears twice with different values at "
            f"{first['interval_start']:%Y-%m-%dT%H:%M:%SZ}; save each series once (one "
            "query_range response per metric)"
        )
    scale = pl.col("metric").replace_strict(
        UTILIZATION_METRICS, default=None, return_dtype=pl.Float64
    )
    beyond = raw.filter(
        pl.col("metric").is_in(list(UTILIZATION_METRICS))
        & ((pl.col("value") * scale > 1) | (pl.col("value") < 0))
    )
    if beyond.height:
        first = beyond.row(0, named=True)
        raise SourceError(
            f"{first['source_file']}: series {first['metric']} of GPU {first['gpu_uuid']} "
            f"has the utilisation {first['value']:g} at "
            f"{first['interval_start']:%Y-%m-%dT%H:%M:%SZ}, outside 0-100 % (0-1 for "
            "DCGM_FI_PROF_*); check the exporter and save the response again"
        )
