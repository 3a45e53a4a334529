"""What-if drivers and the sensitivity tornado, on baselines built here."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from roi.scenarios.baseline import Baseline, ScenarioError
from roi.scenarios.sensitivity import chart, tornado, write_chart
from roi.scenarios.whatif import State, apply, compare, parse
from roi.vocabulary import IDLE
from tests.scenarios.projects import baseline


def _base() -> dict[str, Baseline]:
    a = baseline(
        "a", value=10_000.0, api=1_000.0, gpu=2_000.0, cpu=500.0, platform=300.0, other=200.0
    )
    b = baseline("b", value=4_000.0, gpu=1_000.0, platform=100.0)
    a = replace(
        a,
        gpu_efficiency=0.4,
        llm={
            "api": {
                "tokens": 50e6,
                "cost": 1_000.0,
                "api_cost_same_mix": 0.0,
                "cost_per_1m_tokens": 20.0,
            },
            "self_hosted": {
                "tokens": 10e6,
                "cost": 800.0,
                "api_cost_same_mix": 5.0,
                "cost_per_1m_tokens": 80.0,
            },
        },
    )
    return {"a": a, "b": b}


def _run(base: dict[str, Baseline], *sets: str) -> State:
    return apply(base, parse(list(sets), base))


def test_price_traffic_and_utilization_drivers() -> None:
    base = _base()
    state = _run(base, "gpu_price=0.8")
    assert state["a"].costs["gpu"] == pytest.approx(1_600.0) and state["b"].costs[
        "gpu"
    ] == pytest.approx(800.0)
    state = _run(base, "traffic[a]=2")
    a = state["a"]
    assert (a.costs["api"], a.costs["gpu"], a.costs["cpu"], a.costs["platform"], a.value) == (
        2_000.0,
        4_000.0,
        1_000.0,
        300.0,
        20_000.0,
    )
    assert state["b"].value == 4_000.0
    # at 80% busy instead of 40%, half the GPU-hours do the same work
    assert _run(base, "utilization[a]=0.8")["a"].costs["gpu"] == pytest.approx(1_000.0)
    # quantization halves GPU-hours and costs half a metric point (100 a point)
    q = _run(base, "quantize[a]=0.5", "metric_change[a]=-0.5")["a"]
    assert q.costs["gpu"] == pytest.approx(1_000.0) and q.value == pytest.approx(9_950.0)


def test_retire_spreads_the_platform_and_leaves_gpu_as_idle() -> None:
    base = _base()
    state = _run(base, "retire=b")
    assert state["b"].cost == 0 and state["b"].value == 0
    assert state["a"].costs["platform"] == pytest.approx(400.0)  # 300 + b's 100
    assert state[IDLE].costs["gpu"] == pytest.approx(1_000.0)
    table = compare(base, state)
    total = table.filter(table["model_id"] == "PORTFOLIO").row(0, named=True)
    # the platform and the GPU pool still cost what they did: only b's value goes
    assert total["scenario_cost"] == pytest.approx(total["cost"])
    assert total["value_change"] == pytest.approx(-4_000.0)


def test_self_host_and_use_api() -> None:
    base = _base()
    hosted = _run(base, "self_host=a")["a"]
    # 50M API tokens at the self-hosted 80 per 1M instead of their 1,000 API cost
    assert hosted.costs["api"] == 0 and hosted.costs["gpu"] == pytest.approx(2_000.0 + 50 * 80.0)
    priced = _run(base, "self_host=a", "self_host_per_1m[a]=10")["a"]
    assert priced.costs["gpu"] == pytest.approx(2_000.0 + 50 * 10.0)
    api = _run(base, "use_api=a")["a"]
    assert api.costs["gpu"] == pytest.approx(1_200.0) and api.costs["api"] == pytest.approx(1_005.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gpu_prize=0.8", r"unknown driver 'gpu_prize'; drivers: gpu_price"),
        ("gpu_price", r"write driver=value"),
        ("gpu_price=cheap", r"expected a number"),
        ("retire=nobody", r"unknown model 'nobody'"),
        ("traffic[nobody]=2", r"unknown model 'nobody'"),
        ("utilization=1.5", r"a busy share above 0 and at most 1"),
    ],
)
def test_bad_drivers(text: str, message: str) -> None:
    base = _base()
    with pytest.raises(ScenarioError, match=message):
        apply(base, parse([text], base))


def test_tornado_orders_drivers_by_swing_and_recomputes_each_end(tmp_path: Path) -> None:
    base = _base()
    roi, table = tornado(base, "a", {"gpu_price": (0.5, 1.5)})
    assert roi == pytest.approx((10_000 - 4_000) / 4_000)
    swings = table["swing"].to_list()
    assert swings == sorted(swings, reverse=True)
    row = table.filter(table["driver"] == "gpu_price").row(0, named=True)
    assert row["roi_at_low"] == pytest.approx((10_000 - 3_000) / 3_000)  # GPU cost halved
    assert row["roi_at_high"] == pytest.approx((10_000 - 5_000) / 5_000)
    files = write_chart(chart(table, roi, "a"), tmp_path, "t")
    assert files[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "<svg" in files[1].read_text()
