"""Self-hosted serving cost per token: OpenCost's inference-cost arithmetic.

OpenCost (`docs/inference-cost-tracking.md`, "Example Calculation") turns a model's hosting
cost for a window into three rates:

- **blended**: cost / (prompt + generated tokens) × 1M;
- **input**: the cost share of prefill / effective input tokens × 1M, where effective input
  tokens are prompt tokens less those served from the KV cache (cached tokens needed no
  compute);
- **output**: the cost share of decode / generated tokens × 1M.

The split between prefill and decode follows their compute time when it is known
(`compute_time`, or `compute_time_uncorrected` when cached tokens are unknown); otherwise a fixed
ratio, output tokens costing `output_multiplier` (OpenCost's default 2.5) times input tokens
(`multiplier`): input per token = cost / (effective input + generated × multiplier).

Its worked example, a 3.20 USD/h allocation serving 12M prompt and 3M generated tokens in an
hour with 800k of them cached and equal prefill and decode time, gives 0.213 USD per 1M blended,
0.143 per 1M effective input and 0.533 per 1M output (`tests/value/test_self_hosted.py`).
`roi.value.llm_costs` computes the `self_hosted` rows of `llm_unit_costs` with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Method = Literal["compute_time", "compute_time_uncorrected", "multiplier"]
MILLION = 1_000_000
DEFAULT_OUTPUT_MULTIPLIER = 2.5


@dataclass(frozen=True)
class UnitCost:
    """A self-hosted model's cost per 1M tokens over a window (None where no tokens)."""

    blended_per_1m: float | None
    input_per_1m: float | None
    output_per_1m: float | None
    input_cost: float
    output_cost: float
    effective_input_tokens: float
    method: Method


def self_hosted_unit_cost(
    cost: float,
    prompt_tokens: float,
    generated_tokens: float,
    cached_tokens: float | None = None,
    prefill_seconds: float | None = None,
    decode_seconds: float | None = None,
    output_multiplier: float = DEFAULT_OUTPUT_MULTIPLIER,
) -> UnitCost:
    """Blended, input and output cost per 1M tokens of `cost` spent serving the tokens.

    `prompt_tokens` includes `cached_tokens` (prompt tokens served from the KV cache or a
    prefix cache); without them the input rate is per prompt token.

    Raises:
        ValueError: negative amounts or tokens, more cached than prompt tokens, or a multiplier
            that is not positive.
    """
    if min(cost, prompt_tokens, generated_tokens, cached_tokens or 0) < 0:
        raise ValueError("cost and token counts cannot be negative")
    if cached_tokens is not None and cached_tokens > prompt_tokens:
        raise ValueError("cached tokens are part of the prompt tokens: there cannot be more")
    if output_multiplier <= 0:
        raise ValueError("the output multiplier must be above 0")
    effective = prompt_tokens - (cached_tokens or 0)
    total_tokens = prompt_tokens + generated_tokens
    timed = (prefill_seconds or 0) + (decode_seconds or 0)
    method: Method
    if prefill_seconds is not None and decode_seconds is not None and timed > 0:
        method = "compute_time" if cached_tokens is not None else "compute_time_uncorrected"
        input_cost = cost * prefill_seconds / timed
    else:
        method = "multiplier"
        weighted = effective + generated_tokens * output_multiplier
        input_cost = cost * effective / weighted if weighted > 0 else 0.0
    output_cost = cost - input_cost

    def per_1m(amount: float, tokens: float) -> float | None:
        return amount / tokens * MILLION if tokens > 0 else None

    return UnitCost(
        blended_per_1m=per_1m(cost, total_tokens),
        input_per_1m=per_1m(input_cost, effective),
        output_per_1m=per_1m(output_cost, generated_tokens),
        input_cost=input_cost,
        output_cost=output_cost,
        effective_input_tokens=effective,
        method=method,
    )


__all__ = ["DEFAULT_OUTPUT_MULTIPLIER", "UnitCost", "self_hosted_unit_cost"]
