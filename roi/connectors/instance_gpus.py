"""GPUs per cloud instance type, for billing formats that name the instance type but not its
GPUs (AWS CUR `product/instanceType`). Public instance specifications; a type not listed has no
GPU count (its cost still loads, it is just not counted as GPU hours)."""

from __future__ import annotations

AWS: dict[str, int] = {
    # H100 / H200 / B200
    "p5.4xlarge": 1,
    "p5.48xlarge": 8,
    "p5e.48xlarge": 8,
    "p5en.48xlarge": 8,
    "p6-b200.48xlarge": 8,
    # A100
    "p4d.24xlarge": 8,
    "p4de.24xlarge": 8,
    # V100
    "p3.2xlarge": 1,
    "p3.8xlarge": 4,
    "p3.16xlarge": 8,
    "p3dn.24xlarge": 8,
    # A10G
    "g5.xlarge": 1,
    "g5.2xlarge": 1,
    "g5.4xlarge": 1,
    "g5.8xlarge": 1,
    "g5.16xlarge": 1,
    "g5.12xlarge": 4,
    "g5.24xlarge": 4,
    "g5.48xlarge": 8,
    # L4
    "g6.xlarge": 1,
    "g6.2xlarge": 1,
    "g6.4xlarge": 1,
    "g6.8xlarge": 1,
    "g6.16xlarge": 1,
    "g6.12xlarge": 4,
    "g6.24xlarge": 4,
    "g6.48xlarge": 8,
    # L40S
    "g6e.xlarge": 1,
    "g6e.2xlarge": 1,
    "g6e.4xlarge": 1,
    "g6e.8xlarge": 1,
    "g6e.16xlarge": 1,
    "g6e.12xlarge": 4,
    "g6e.24xlarge": 4,
    "g6e.48xlarge": 8,
    # T4
    "g4dn.xlarge": 1,
    "g4dn.2xlarge": 1,
    "g4dn.4xlarge": 1,
    "g4dn.8xlarge": 1,
    "g4dn.16xlarge": 1,
    "g4dn.12xlarge": 4,
    "g4dn.metal": 8,
}


AZURE: dict[str, int] = {
    # A100
    "standard_nc24ads_a100_v4": 1,
    "standard_nc48ads_a100_v4": 2,
    "standard_nc96ads_a100_v4": 4,
    "standard_nd96asr_v4": 8,
    "standard_nd96amsr_a100_v4": 8,
    # H100 / H200
    "standard_nc40ads_h100_v5": 1,
    "standard_nc80adis_h100_v5": 2,
    "standard_nd96isr_h100_v5": 8,
    "standard_nd96isr_h200_v5": 8,
    # V100
    "standard_nc6s_v3": 1,
    "standard_nc12s_v3": 2,
    "standard_nc24s_v3": 4,
    "standard_nc24rs_v3": 4,
    "standard_nd40rs_v2": 8,
    # T4
    "standard_nc4as_t4_v3": 1,
    "standard_nc8as_t4_v3": 1,
    "standard_nc16as_t4_v3": 1,
    "standard_nc64as_t4_v3": 4,
    # A10 (whole GPUs only; the fractional NVadsA10 sizes hold part of one)
    "standard_nv36ads_a10_v5": 1,
    "standard_nv72ads_a10_v5": 2,
}


def aws_gpus(instance_type: str | None) -> int | None:
    """GPUs of an AWS instance type (SageMaker's `ml.` prefix allowed), or None if unknown."""
    if not instance_type:
        return None
    return AWS.get(instance_type.strip().lower().removeprefix("ml."))
