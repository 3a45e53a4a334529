"""The words attribution writes: sentinel model ids, cost types and bases, in one place."""

from __future__ import annotations

import typing
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
COST_TYPES: tuple[str, ...] = typing.get_args(CostType)
# What a pool may declare its split cost as (idle, tax, credit and the like are never shared).
PoolCostType = Literal[
    "inference_api",
    "gpu_compute",
    "cpu_compute",
    "storage",
    "network",
    "training",
    "platform_shared",
    "other",
]

Basis = Literal["direct", "shared", "amortized", "idle", "unallocated"]
BASES: tuple[str, ...] = typing.get_args(Basis)

UNMATCHED_RULE = "unmatched"
