"""The words attribution writes: sentinel model ids, cost types and bases, in one place."""

from __future__ import annotations

from typing import Literal

UNALLOCATED = "__unallocated__"  # cost no rule could place (with a reason)
IDLE = "__idle__"  # capacity no workload used (GPU-hours, commitments)
SENTINELS = (UNALLOCATED, IDLE)
SENTINEL_LABELS = {UNALLOCATED: "Unallocated", IDLE: "Idle capacity"}

CostType = Literal[
    "inference_api",
    "gpu_compute",
    "cpu_compute",
    "storage",
    "network",
    "training",
    "platform_shared",
    "idle_gpu",
    "commitment_unused",
    "tax",
    "credit",
    "other",
]
COST_TYPES: tuple[str, ...] = (
    "inference_api",
    "gpu_compute",
    "cpu_compute",
    "storage",
    "network",
    "training",
    "platform_shared",
    "idle_gpu",
    "commitment_unused",
    "tax",
    "credit",
    "other",
)

Basis = Literal["direct", "shared", "amortized", "idle", "unallocated"]
BASES: tuple[str, ...] = ("direct", "shared", "amortized", "idle", "unallocated")

UNMATCHED_RULE = "unmatched"
