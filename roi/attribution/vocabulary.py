"""The words attribution writes: sentinel model ids, cost types and bases, in one place."""

from __future__ import annotations

import typing
from typing import Literal

UNALLOCATED = "__unallocated__"  # cost no rule could place (with a reason)
IDLE = "__idle__"  # capacity no workload held (GPU-hours) or used (commitments)
# GPU-hours workloads held but did not keep busy: a line of its own only in pools split by
# `gpu_hours_utilization` (by `gpu_hours` they are the holder's cost).
IDLE_HELD = "__idle_held__"
SENTINELS = (UNALLOCATED, IDLE, IDLE_HELD)
SENTINEL_LABELS = {
    UNALLOCATED: "Unallocated",
    IDLE: "Idle capacity",
    IDLE_HELD: "Held, not busy",
}

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

# LLM usage priced from the gateway with no bill behind it (`usage_costs`), in `model_costs`.
USAGE_BASIS = "usage"

# LiteLLM provider → the FOCUS ProviderName whose bill carries that usage's cost. A provider
# not listed here (openai, anthropic, cohere, mistral, ...) bills directly, outside the clouds.
USAGE_BILLED_BY: dict[str, str] = {
    "azure": "Microsoft",
    "azure_ai": "Microsoft",
    "bedrock": "AWS",
    "sagemaker": "AWS",
    "vertex_ai": "Google Cloud",
    "vertex_ai_beta": "Google Cloud",
    "gemini": "Google Cloud",
    "oci": "Oracle",
}

# Gateway providers that are the company's own serving (vLLM, Ollama, Triton...): their tokens
# cost GPU time, already in the bills, never a price per token.
SELF_HOSTED_PROVIDERS: tuple[str, ...] = (
    "hosted_vllm",
    "vllm",
    "ollama",
    "ollama_chat",
    "lm_studio",
    "triton",
    "llamafile",
    "xinference",
)
