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
from roi.context import Context
from roi.value.pnl import annual_irr, excel_npv, horizon_flows, irr, monthly_rate
from roi.vocabulary import add_months


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


def test_horizon_flows_follow_the_calendar() -> None:
    m = [date(2026, k, 1) for k in range(1, 7)]
    known = [(m[0], -10.0), (m[1], 5.0), (m[2], 6.0), (m[3], 7.0)]
    assert horizon_flows(known, m[3], m[5]) == [-10, 5, 6, 7, 6, 6]
    assert horizon_flows(known[:2], m[1], m[5], until=m[1]) == [-10.0, 5.0]  # retired
    assert horizon_flows(known, m[3], m[2]) == [-10.0, 5.0, 6.0]  # past the horizon's end
    # A month without a net (January) is skipped, and the horizon still ends in June.
    assert horizon_flows(known[1:], m[3], m[5]) == [5, 6, 7, 6, 6]
    assert add_months(date(2025, 11, 1), 35) == date(2028, 10, 1)


def _months(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def _expected_flows(
    part: pl.DataFrame, horizon: int, retired: date | None
) -> tuple[list[float], date]:
    """The horizon's flows as of the last month, rebuilt by hand: the known nets of the
    calendar months from the first month with data to its end, then the last three nets' mean
    for each month after the last one, to the end (or the retirement month)."""
    part = part.sort("month")
    first, last = part["month"][0], part["month"][-1]
    end = add_months(first, horizon - 1)
    known = part.filter(pl.col("net").is_not_null())
    flows = known.filter(pl.col("month") <= end)["net"].to_list()
    stop = min(end, retired.replace(day=1)) if retired else end
    ahead = max(_months(last, stop), 0)
    return flows + [float(np.mean(known["net"].to_list()[-3:]))] * ahead, end


def test_model_roi_npv_and_irr_over_the_horizon(loaded_project: ProjectConfig) -> None:
    roi = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT * FROM model_roi ORDER BY model_id, month",
    )
    horizon = loaded_project.finance.horizon_months
    rate = monthly_rate(loaded_project.finance.discount_rate)
    retired = {m.model_id: m.retired for m in loaded_project.models}
    checked = 0
    for (model_id,), part in roi.group_by("model_id"):
        last = part.sort("month").row(-1, named=True)
        flows, end = _expected_flows(part, horizon, retired[model_id])
        if not flows:
            continue
        assert last["npv_horizon"] == pytest.approx(npf.npv(rate, [0.0, *flows]), rel=1e-9)
        assert last["horizon_end"] == end
        expected = npf.irr(flows)
        if flows[0] < 0 and not np.isnan(expected) and -0.99 <= (1 + expected) ** 12 - 1 <= 10:
            assert last["irr"] == pytest.approx((1 + expected) ** 12 - 1, rel=1e-6)
        else:
            assert last["irr"] is None and last["irr_reason"].startswith("n/a: "), model_id
        checked += 1
    assert checked >= 10


def test_a_first_month_without_value_keeps_the_horizon_to_its_end(
    loaded_project: ProjectConfig,
) -> None:
    # The claims pilot starts in 2026-02 with no value: its 36-month horizon ends in 2029-01,
    # so in 2026-03 it holds that month's net and 34 more (35 flows), not 36.
    rows = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT * FROM model_roi WHERE model_id = 'claims-summarizer' ORDER BY month",
    )
    rate = monthly_rate(loaded_project.finance.discount_rate)
    assert rows["month"][0] == date(2026, 2, 1) and rows["net"][0] is None
    assert set(rows["horizon_end"]) == {date(2029, 1, 1)}
    march = rows.row(1, named=True)
    assert march["npv_horizon"] == pytest.approx(
        npf.npv(rate, [0.0, *[march["net"]] * 35]), rel=1e-12
    )
    october = rows.filter(pl.col("month") == date(2026, 10, 1)).row(0, named=True)
    nets = rows["net"].drop_nulls().to_list()  # 2026-03 .. 2026-10: 8 months
    flows = nets + [float(np.mean(nets[-3:]))] * 27  # 2026-11 .. 2029-01
    assert len(flows) == 35
    assert october["npv_horizon"] == pytest.approx(npf.npv(rate, [0.0, *flows]), rel=1e-12)


def test_a_retired_model_s_cost_after_retirement_stays_in_its_p_and_l(
    loaded_project: ProjectConfig,
) -> None:
    path = loaded_project.warehouse_path
    [aml] = [m for m in loaded_project.models if m.model_id == "aml-screening"]
    assert aml.retired == date(2025, 8, 31)
    rows = pipeline.query(
        Context.for_warehouse(path),
        "SELECT * FROM model_roi WHERE model_id = 'aml-screening' ORDER BY month",
    )
    cost = pipeline.query(
        Context.for_warehouse(path),
        "SELECT month, sum(amount)::DOUBLE AS cost FROM model_costs "
        "WHERE model_id = 'aml-screening' GROUP BY ALL ORDER BY month",
    )
    after = rows.filter(pl.col("month") > date(2025, 8, 1))
    assert after.height == 14 and after["cost"].sum() > 3_000
    # No value after retirement, with the reason, and a net of −cost.
    assert after["value"].null_count() == 14
    assert after["net"].to_list() == pytest.approx((-after["cost"]).to_list(), rel=1e-12)
    reasons = pipeline.query(
        Context.for_warehouse(path),
        "SELECT month, value, reason FROM model_value WHERE model_id = 'aml-screening' "
        "AND month > '2025-08-01' ORDER BY month",
    )
    assert reasons["month"].to_list() == after["month"].to_list()
    assert reasons["value"].null_count() == 14
    assert set(reasons["reason"]) == {
        "no value: retired on 2025-08-31; its cost after retirement is a loss"
    }
    # Cumulative net, NPV and the horizon's NPV count every month's cost, against
    # numpy-financial on nets rebuilt from model_value and model_costs.
    value = pipeline.query(
        Context.for_warehouse(path),
        "SELECT month, value FROM model_value WHERE model_id = 'aml-screening'",
    )
    nets = (
        cost.join(value, on="month", how="left")
        .sort("month")
        .select(pl.col("value").fill_null(0.0) - pl.col("cost"))
        .to_series()
        .to_list()
    )
    last = rows.row(-1, named=True)
    rate = monthly_rate(loaded_project.finance.discount_rate)
    assert last["cumulative_net"] == pytest.approx(sum(nets), rel=1e-12)
    assert last["npv"] == pytest.approx(npf.npv(rate, [0.0, *nets]), rel=1e-12)
    assert last["npv_horizon"] == pytest.approx(last["npv"], rel=1e-12)  # nothing projected
    assert last["irr"] is None and "never turn positive" in last["irr_reason"]


def test_irr_is_shown_only_for_an_investment_and_a_sane_rate() -> None:
    invest = [-5_000.0, -2_000.0, 1_000.0, 2_500.0, 3_000.0, 3_000.0, 3_000.0]
    annual, reason = annual_irr(invest)
    assert annual == pytest.approx((1 + npf.irr(invest)) ** 12 - 1, rel=1e-9) and reason is None
    # No up-front investment: numpy-financial finds a rate, which means nothing.
    pilot = [900.0, 1_000.0, -700.0, -650.0, -720.0]
    assert not np.isnan(npf.irr(pilot))
    assert annual_irr(pilot) == (
        None,
        "n/a: the flows do not start negative (no investment to return)",
    )
    assert annual_irr([-10.0, -5.0]) == (
        None,
        "n/a: the flows never turn positive (nothing returned)",
    )
    # A tiny investment returned many times over in a month: a rate beyond 1,000% a year.
    tiny = [-10.0, 5_000.0, 5_000.0]
    assert (1 + npf.irr(tiny)) ** 12 - 1 > 10
    annual, reason = annual_irr(tiny)
    assert annual is None and reason is not None
    assert reason.startswith("n/a: ") and "outside −99% to 1,000%" in reason
    assert annual_irr([]) == (None, "n/a: no known net in the horizon yet")


def test_clinical_triage_irr_is_not_a_number_without_an_investment(
    loaded_project: ProjectConfig,
) -> None:
    rows = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT net, irr, irr_reason FROM model_roi WHERE model_id = 'clinical-triage' "
        "ORDER BY month",
    )
    nets = rows["net"].drop_nulls().to_list()
    assert nets[0] > 0 and min(nets) < 0  # numpy-financial finds a rate for these flows
    last = rows.row(-1, named=True)
    assert last["irr"] is None
    assert last["irr_reason"] == "n/a: the flows do not start negative (no investment to return)"
