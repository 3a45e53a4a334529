"""Self-hosted cost per token: OpenCost's published worked example, reproduced."""

from __future__ import annotations

import pytest

from roi.value.self_hosted import self_hosted_unit_cost


def test_opencost_worked_example() -> None:
    # docs/inference-cost-tracking.md, "Example Calculation": 3.20 USD for an hour, 12M prompt
    # and 3M generated tokens, 800k prompt tokens from the KV cache, prefill and decode 600 s.
    rates = self_hosted_unit_cost(
        3.20,
        prompt_tokens=12_000_000,
        generated_tokens=3_000_000,
        cached_tokens=800_000,
        prefill_seconds=600,
        decode_seconds=600,
    )
    assert rates.method == "compute_time"
    assert rates.effective_input_tokens == 11_200_000
    assert rates.input_cost == pytest.approx(1.60) and rates.output_cost == pytest.approx(1.60)
    assert round(rates.blended_per_1m or 0, 3) == 0.213  # 3.20 / 15M x 1M
    assert round(rates.input_per_1m or 0, 3) == 0.143  # 1.60 / 11.2M x 1M
    assert round(rates.output_per_1m or 0, 3) == 0.533  # 1.60 / 3M x 1M


def test_without_timings_output_tokens_cost_the_multiplier() -> None:
    rates = self_hosted_unit_cost(3.20, 12_000_000, 3_000_000, 800_000)
    assert rates.method == "multiplier"
    assert rates.output_per_1m == pytest.approx((rates.input_per_1m or 0) * 2.5)
    assert rates.input_cost + rates.output_cost == pytest.approx(3.20)
    uncorrected = self_hosted_unit_cost(3.20, 12_000_000, 3_000_000, None, 600, 600)
    assert uncorrected.method == "compute_time_uncorrected"
    assert uncorrected.input_per_1m == pytest.approx(1.60 / 12)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="part of the prompt"):
        self_hosted_unit_cost(1.0, 10, 10, cached_tokens=11)
    with pytest.raises(ValueError, match="negative"):
        self_hosted_unit_cost(-1.0, 10, 10)
    assert self_hosted_unit_cost(1.0, 0, 0).blended_per_1m is None
