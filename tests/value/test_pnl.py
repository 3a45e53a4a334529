"""NPV, IRR and the horizon's flows, checked against numpy-financial on the same flows.

Convention: Excel's `NPV(rate, range)` discounts the first value one period; numpy-financial's
`npv(rate, values)` treats `values[0]` as today. So roi's NPV of flows f equals
`npf.npv(rate, [0, *f])`, and roi's IRR is `npf.irr(f)` (where one exists).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy_financial as npf
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roi import pipeline
from roi.config import ProjectConfig
from roi.value.pnl import add_months, excel_npv, horizon_flows, irr, monthly_rate


def test_excel_npv_convention() -> None:
    # Excel: =NPV(10%, 30000, 40000, 50000, 20000) - 100000 = 11,556.59 (methods.md §9).
    assert excel_npv(0.10, [30_000, 40_000, 50_000, 20_000]) - 100_000 == pytest.approx(
        11_556.59, abs=0.01
    )
    assert monthly_rate(0.10) == pytest.approx(1.1 ** (1 / 12) - 1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40),
    st.floats(0.0, 0.05),
)
def test_npv_equals_numpy_financial_with_the_first_period_discounted(
    flows: list[float], rate: float
) -> None:
    assert excel_npv(rate, flows) == pytest.approx(npf.npv(rate, [0.0, *flows]), rel=1e-9, abs=1e-6)


@pytest.mark.parametrize(
    "flows",
    [
        [-100_000, 30_000, 40_000, 50_000, 20_000],
        [-5_000, -2_000, 1_000, 2_500, 3_000, 3_000, 3_000],
        [-800.0] * 3 + [150.0] * 33,
        [1_200, -4_000, 800, 900, 1_000, 1_100],
    ],
)
def test_irr_equals_numpy_financial(flows: list[float]) -> None:
    assert irr(flows) == pytest.approx(npf.irr(flows), rel=1e-9)
    assert excel_npv(irr(flows) or 0.0, flows) == pytest.approx(0.0, abs=1e-6)


def test_irr_is_undefined_without_a_sign_change() -> None:
    assert irr([100.0, 200.0]) is None and irr([-1.0, -2.0]) is None and irr([]) is None
    assert np.isnan(npf.irr([100.0, 200.0]))


def test_horizon_flows() -> None:
    assert horizon_flows([-10.0, 5.0, 6.0, 7.0], 6, open_ended=True) == [-10, 5, 6, 7, 6, 6]
    assert horizon_flows([-10.0, 5.0], 6, open_ended=False) == [-10.0, 5.0]  # retired
    assert horizon_flows([1.0] * 8, 6, open_ended=True) == [1.0] * 6
    assert add_months(date(2025, 11, 1), 35) == date(2028, 10, 1)


def test_model_roi_npv_and_irr_over_the_horizon(loaded_project: ProjectConfig) -> None:
    roi = pipeline.query(
        loaded_project.warehouse_path, "SELECT * FROM model_roi ORDER BY model_id, month"
    )
    horizon = loaded_project.finance.horizon_months
    rate = monthly_rate(loaded_project.finance.discount_rate)
    retired = {m.model_id: m.retired for m in loaded_project.models}
    checked = 0
    for (model_id,), part in roi.group_by("model_id"):
        last = part.sort("month").row(-1, named=True)
        nets = part.filter(pl.col("net").is_not_null()).sort("month")["net"].to_list()
        if not nets:
            continue
        ended = retired[model_id] is not None and last["month"] >= retired[model_id].replace(day=1)
        tail = float(np.mean(nets[-3:]))
        flows = nets if ended else nets + [tail] * max(horizon - len(nets), 0)
        flows = flows[:horizon]
        assert last["npv_horizon"] == pytest.approx(npf.npv(rate, [0.0, *flows]), rel=1e-9)
        expected = npf.irr(flows)
        if np.isnan(expected):
            assert last["irr"] is None
        else:
            assert last["irr"] == pytest.approx((1 + expected) ** 12 - 1, rel=1e-6)
        first = part["month"].min()
        assert last["horizon_end"] == add_months(first, horizon - 1)
        checked += 1
    assert checked >= 10
