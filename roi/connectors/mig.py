"""MIG slices as fractions of a GPU, from dcgm-exporter's `GPU_I_PROFILE` label.

A MIG GPU instance's profile names its compute slices first: `3g.40gb` is 3 of the GPU's
compute slices (and 40 GB of its memory). An A100, H100, H200 or B200 has 7 compute slices, an
A30 has 4, so `3g.40gb` on an A100 is 3/7 of the GPU and `4g.40gb` 4/7. dcgm-exporter reports
each slice as its own series under the parent GPU's `UUID`, with `GPU_I_ID` (the instance) and
`GPU_I_PROFILE`; the parent GPU's capacity is counted once, its slices as fractions of it.
"""

from __future__ import annotations

import polars as pl

from roi.errors import SourceError

# Compute slices per GPU by model-name fragment; every other MIG-capable GPU has 7.
SLICES_PER_GPU = {"A30": 4}
DEFAULT_SLICES = 7
_PROFILE = r"^(\d+)g\."  # `3g.40gb`, `1g.10gb+me`: the leading number is the compute slices


def slice_share() -> pl.Expr:
    """A series' share of its GPU: 0 without a pod (idle), its compute slices over the GPU's for
    a MIG slice, else 1 (a whole GPU)."""
    total = pl.lit(DEFAULT_SLICES, pl.Float64)
    for fragment, count in SLICES_PER_GPU.items():
        total = (
            pl.when(pl.col("gpu_model").fill_null("").str.contains(fragment, literal=True))
            .then(pl.lit(float(count)))
            .otherwise(total)
        )
    slices = pl.col("mig_profile").str.extract(_PROFILE, 1).cast(pl.Float64, strict=False)
    return (
        pl.when(pl.col("pod").is_null())
        .then(0.0)
        .when(pl.col("mig_profile").is_null())
        .then(1.0)
        .otherwise(slices / total)
    )


def check_profiles(frame: pl.DataFrame) -> None:
    """Every MIG profile must name its compute slices, no more than the GPU has.

    Raises:
        SourceError: naming the file, the GPU, the profile and what a profile looks like.
    """
    bad = frame.filter(
        pl.col("mig_profile").is_not_null()
        & (pl.col("share").is_null() | (pl.col("share") > 1) | (pl.col("share") <= 0))
        & pl.col("pod").is_not_null()
    )
    if bad.height:
        first = bad.row(0, named=True)
        raise SourceError(
            f"{first['source_file']}: GPU {first['gpu_uuid']} ({first['gpu_model']}) has the "
            f"MIG profile GPU_I_PROFILE={first['mig_profile']!r}, which does not name its "
            "compute slices as dcgm-exporter writes them (e.g. 3g.40gb: 3 of 7); save the "
            "query_range response as Prometheus returned it"
        )


def combine_slices(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """One row per GPU, pod and interval from one row per MIG slice: shares and memory add
    up, utilisation is the share-weighted mean (a pod holding two slices of one GPU)."""
    if frame["mig_profile"].null_count() == frame.height:  # no MIG: one slice per GPU already
        return frame.drop("mig_instance", "mig_profile").rename({"share": "gpu_share"})
    weight = pl.when(pl.col("share") > 0).then(pl.col("share")).otherwise(1.0)
    measured = pl.col("utilization").is_not_null()
    first = [c for c in frame.columns if c not in {*keys, "share", "utilization"}]
    first = [c for c in first if c not in {"memory_used_bytes", "mig_instance", "mig_profile"}]
    return (
        frame.sort([*keys, "mig_instance"])
        .group_by(keys, maintain_order=True)
        .agg(
            pl.col("share").sum().clip(upper_bound=1.0).alias("gpu_share"),
            pl.when(measured.any())
            .then((pl.col("utilization") * weight).sum() / weight.filter(measured).sum())
            .alias("utilization"),
            pl.when(pl.col("memory_used_bytes").is_not_null().any())
            .then(pl.col("memory_used_bytes").sum())
            .alias("memory_used_bytes"),
            *[pl.col(c).first() for c in first],
        )
    )
