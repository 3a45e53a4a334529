"""Golden tests per value method: small input tables → expected `model_value` rows, with the
arithmetic written out here, and the statistical methods checked against statsmodels run
directly on the same data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from roi.errors import ConfigError
from roi.value.methods import (
    ab_uplift,
    confusion_payoff,
    cost_savings,
    did,
    kpi_regression,
    per_unit,
)
from roi.value.methods.ab_uplift import AbUpliftValue
from roi.value.methods.confusion_payoff import ConfusionPayoffValue
from roi.value.methods.cost_savings import CostSavingsValue
from roi.value.methods.did import DidValue
from roi.value.methods.kpi_regression import KpiRegressionValue
from roi.value.methods.per_unit import PerUnitValue
from tests.helpers import number
from tests.value.kpis import arm, inputs, kpi, month, warehouse_with


def test_per_unit_against_a_rate_a_kpi_and_gross(tmp_path: Path) -> None:
    rows = [
        kpi("volume", 0, 1000.0),
        kpi("volume", 1, 2000.0),
        kpi("caught", 0, 12.0),
        kpi("caught", 1, 30.0),
        kpi("rules_caught", 0, 5.0),
        kpi("rules_caught", 1, 8.0),
        kpi("loss", 0, 100.0, unit="USD", model_id=None),  # approved once, holds after
    ]
    con = warehouse_with(tmp_path / "w.duckdb", rows)
    rate = per_unit.value(
        PerUnitValue("per_unit", "volume", "caught", "loss", baseline=0.004), inputs(con), "USD"
    )
    # (12 − 0.004 × 1000) × 100 = 800; (30 − 0.004 × 2000) × 100 = 2,200
    assert rate["value"].to_list() == pytest.approx([800.0, 2200.0])
    assert set(rate["evidence"]) == {"per_unit_baseline"} and rate["value_low"].null_count() == 2
    against_kpi = per_unit.value(
        PerUnitValue("per_unit", "volume", "caught", "loss", baseline="rules_caught"),
        inputs(con),
        "USD",
    )
    assert against_kpi["value"].to_list() == pytest.approx([(12 - 5) * 100.0, (30 - 8) * 100.0])
    gross = per_unit.value(PerUnitValue("per_unit", "volume", "caught", "loss"), inputs(con), "USD")
    assert gross["value"].to_list() == pytest.approx([1200.0, 3000.0])
    assert set(gross["evidence"]) == {"assumption"}
    assert set(gross["basis"]) == {"gross, no counterfactual"}
    assert gross["load_ids"].to_list() == [["L1"], ["L1"]]


def test_per_unit_month_before_any_unit_value_is_a_no_value_row(tmp_path: Path) -> None:
    rows = [kpi("volume", i, 10.0) for i in range(3)] + [kpi("price", 1, 2.0, unit="USD")]
    con = warehouse_with(tmp_path / "w.duckdb", rows)
    out = per_unit.value(
        PerUnitValue("per_unit", "volume", unit_value_kpi="price"), inputs(con), "USD"
    )
    assert out["value"].to_list() == [None, 20.0, 20.0]  # the price holds until a newer one
    assert out["reason"][0] == (
        "no value: no unit value price in force (approved in or before the month) for 2025-01"
    )
    assert out["reason"][1:].to_list() == [None, None]


def _raw_arms(
    rng: np.random.Generator, n_t: int, n_c: int, p_t: float, p_c: float
) -> tuple[np.ndarray, np.ndarray]:
    return (rng.random(n_t) < p_t).astype(float), (rng.random(n_c) < p_c).astype(float)


def test_ab_uplift_equals_statsmodels_welch_on_the_raw_units(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    rows, raw = [], []
    for i in range(3):
        t, c = _raw_arms(rng, 4000 + 100 * i, 900, 0.34, 0.29)
        raw.append((t, c))
        for segment, units in (("treatment", t), ("control", c)):
            rows.append(
                arm("exp", "deflected", i, segment, units.mean(), units.std(ddof=1), units.size)
            )
        rows.append(kpi("ticket_cost", i, 7.5, unit="USD"))
    con = warehouse_with(tmp_path / "w.duckdb", rows)
    spec = AbUpliftValue("ab_uplift", "exp", "deflected", unit_value_kpi="ticket_cost", level=0.9)
    out = ab_uplift.value(spec, inputs(con), "USD")
    for row, (t, c) in zip(out.iter_rows(named=True), raw, strict=True):
        compare = CompareMeans(DescrStatsW(t), DescrStatsW(c))
        low, high = compare.tconfint_diff(alpha=0.10, usevar="unequal")
        scale = t.size * 7.5  # value = uplift × treated units × unit value
        assert row["value"] == pytest.approx((t.mean() - c.mean()) * scale, rel=1e-9)
        assert row["value_low"] == pytest.approx(low * scale, rel=1e-9)
        assert row["value_high"] == pytest.approx(high * scale, rel=1e-9)
        assert row["evidence"] == "experiment" and row["volume"] == t.size


def test_ab_uplift_without_a_control_arm(tmp_path: Path) -> None:
    rows = [
        arm("exp", "k", 0, "treatment", 0.3, 0.4, 100),
        arm("exp", "k", 0, "control", 0.2, 0.4, 100),
        arm("exp", "k", 1, "treatment", 0.3, 0.4, 100),  # the control arm's month is missing
    ]
    con = warehouse_with(tmp_path / "w.duckdb", rows)
    out = ab_uplift.value(
        AbUpliftValue("ab_uplift", "exp", "k", unit_value=1.0), inputs(con), "USD"
    )
    assert out["value"].to_list() == [pytest.approx(10.0), None]  # (0.3 − 0.2) × 100 × 1
    assert out["reason"][1] == "no value: experiment exp has no control arm for 2025-02"
    only_treatment = warehouse_with(tmp_path / "t.duckdb", [rows[2]])
    with pytest.raises(
        ConfigError,
        match=r"models/m.toml: key 'value.experiment' = 'exp': the "
        r"experiment has no control arm for KPI 'k'",
    ):
        ab_uplift.value(AbUpliftValue("ab_uplift", "exp", "k"), inputs(only_treatment), "USD")
    negative = warehouse_with(
        tmp_path / "n.duckdb", [*rows[:1], arm("exp", "k", 0, "control", 0.2, 0.4, -5)]
    )
    with pytest.raises(ConfigError, match=r"the control arm of 2025-01 has n = -5"):
        ab_uplift.value(AbUpliftValue("ab_uplift", "exp", "k"), inputs(negative), "USD")


def _did_rows(
    effect: float, segments: dict[str, bool], months: int, rollout: int, seed: int
) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    rows = []
    for name, treated in segments.items():
        level = rng.uniform(80, 120)
        for i in range(months):
            common = 5 * np.sin(i / 2)
            value = level + common + rng.normal(0, 1) + (effect if treated and i >= rollout else 0)
            rows.append(kpi("hours", i, float(value), segment=name))
    return rows


def test_did_two_segments_equals_statsmodels_two_way_fixed_effects(tmp_path: Path) -> None:
    rows = _did_rows(-6.0, {"pilot": True, "rest": False}, 14, 6, seed=3)
    con = warehouse_with(tmp_path / "w.duckdb", [*rows, kpi("hour_cost", 0, 50.0, unit="USD")])
    spec = DidValue(
        "did",
        "hours",
        ("pilot",),
        ("rest",),
        month(6),
        unit_value_kpi="hour_cost",
        lower_is_better=True,
    )
    out = did.value(spec, inputs(con), "USD")
    frame = pd.DataFrame(rows)
    frame["treated"] = (frame["segment"] == "pilot").astype(int)
    frame["post"] = (pd.to_datetime(frame["period_start"]) >= pd.Timestamp(month(6))).astype(int)
    classic = smf.ols("value ~ treated * post", frame).fit()
    frame["d"] = frame["treated"] * frame["post"]
    frame["month_key"] = frame["period_start"].astype(str)
    fit = smf.ols("value ~ d + C(segment) + C(month_key)", frame).fit(cov_type="HC1", use_t=True)
    effect = fit.params["d"]
    assert effect == pytest.approx(classic.params["treated:post"], rel=1e-9)  # balanced panel
    low, high = fit.conf_int(alpha=0.10).loc["d"]
    # t quantiles with the residual degrees of freedom (28 rows − 16 parameters), not normal ones.
    half = stats.t.ppf(0.95, 12) * fit.bse["d"]
    assert (low, high) == (pytest.approx(effect - half), pytest.approx(effect + half))
    assert half > stats.norm.ppf(0.95) * fit.bse["d"] * 1.05
    # Hours are a cost: value = −effect × 1 treated segment × 50 USD, every month from the rollout.
    assert out.height == 8 and set(out["evidence"]) == {"quasi_experiment"}
    assert out["value"].to_list() == pytest.approx([-effect * 50] * 8, rel=1e-9)
    assert out["value_low"][0] == pytest.approx(-high * 50, rel=1e-9)
    assert out["value_high"][0] == pytest.approx(-low * 50, rel=1e-9)
    assert out["value_low"][0] < 6 * 50 < out["value_high"][0]  # covers the true effect
    assert "HC1" in out["interval_note"][0]
    assert "t quantiles with 12 degrees of freedom" in out["interval_note"][0]


def test_did_many_segments_uses_two_way_fixed_effects_clustered(tmp_path: Path) -> None:
    segments = {f"region-{k}": k < 6 for k in range(12)}
    rows = _did_rows(4.0, segments, 10, 5, seed=11)
    con = warehouse_with(tmp_path / "w.duckdb", rows)
    treated = tuple(s for s, t in segments.items() if t)
    control = tuple(s for s, t in segments.items() if not t)
    out = did.value(
        DidValue("did", "hours", treated, control, month(5), unit_value=2.0), inputs(con), "USD"
    )
    frame = pd.DataFrame(rows)
    frame["month_key"] = frame["period_start"].astype(str)
    frame["d"] = (frame["segment"].isin(treated) & (frame["month_key"] >= str(month(5)))).astype(
        int
    )
    groups = frame["segment"].astype("category").cat.codes
    fit = smf.ols("value ~ d + C(segment) + C(month_key)", frame).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    low, high = fit.conf_int(alpha=0.10).loc["d"]
    # Few clusters: t quantiles with G − 1 = 11 degrees of freedom (statsmodels' use_t).
    half = stats.t.ppf(0.95, 11) * fit.bse["d"]
    assert (low, high) == (
        pytest.approx(fit.params["d"] - half),
        pytest.approx(fit.params["d"] + half),
    )
    scale = 6 * 2.0  # 6 treated segments × 2 USD
    assert out["value"][0] == pytest.approx(fit.params["d"] * scale, rel=1e-9)
    assert (out["value_low"][0], out["value_high"][0]) == (
        pytest.approx(low * scale, rel=1e-9),
        pytest.approx(high * scale, rel=1e-9),
    )
    assert "clustered by segment" in out["interval_note"][0]
    assert "t quantiles with 11 degrees of freedom" in out["interval_note"][0]


def test_did_needs_both_periods(tmp_path: Path) -> None:
    rows = _did_rows(1.0, {"a": True, "b": False}, 4, 0, seed=1)
    con = warehouse_with(tmp_path / "w.duckdb", rows)
    with pytest.raises(ConfigError, match=r"models/m.toml: key 'value.treated': .* only after"):
        did.value(DidValue("did", "hours", ("a",), ("b",), month(0)), inputs(con), "USD")


def test_confusion_payoff_and_negative_counts(tmp_path: Path) -> None:
    rows = [
        kpi(name, i, value)
        for i in range(2)
        for name, value in (("tp", 10.0 + i), ("fp", 40.0), ("fn", 3.0), ("tn", 9_947.0 - i))
    ]
    con = warehouse_with(tmp_path / "w.duckdb", rows)
    spec = ConfusionPayoffValue("confusion_payoff", "tp", "fp", "fn", 450.0, -6.0, -450.0, "tn")
    out = confusion_payoff.value(spec, inputs(con), "USD")
    # 10 × 450 − 40 × 6 − 3 × 450 = 2,910; then 11 × 450 − 240 − 1,350 = 3,360
    assert out["value"].to_list() == pytest.approx([2910.0, 3360.0])
    assert out["volume"].to_list() == [10_000.0, 10_000.0]  # every prediction counted
    bad = warehouse_with(tmp_path / "b.duckdb", [*rows[:3], kpi("fn", 1, -2.0)])
    with pytest.raises(
        ConfigError, match=r"key 'value.fn_kpi' = 'fn': negative count -2 in 2025-02"
    ):
        confusion_payoff.value(spec, inputs(bad), "USD")


def test_cost_savings(tmp_path: Path) -> None:
    rows = [kpi("pages", i, 1000.0 * (i + 1)) for i in range(2)]
    rows += [kpi("residual", i, 90.0) for i in range(2)]
    con = warehouse_with(tmp_path / "w.duckdb", rows)
    spec = CostSavingsValue("cost_savings", "pages", unit_value=0.4, actual_cost_kpi="residual")
    out = cost_savings.value(spec, inputs(con), "USD")
    assert out["value"].to_list() == pytest.approx([1000 * 0.4 - 90, 2000 * 0.4 - 90])
    assert set(out["evidence"]) == {"per_unit_baseline"}


def test_kpi_regression_equals_statsmodels_hac(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    metric = 0.8 + 0.03 * np.sin(np.arange(18) / 1.5) + rng.normal(0, 0.004, 18)
    volume = 1000 + 10 * np.arange(18) + rng.normal(0, 5, 18)
    outcome = 2_000 * metric + 0.3 * volume + rng.normal(0, 4, 18)  # 20 KPI units per point
    rows = [kpi("cash", i, float(outcome[i])) for i in range(18)]
    rows += [kpi("atms", i, float(volume[i])) for i in range(18)]
    con = warehouse_with(tmp_path / "w.duckdb", rows, [(i, float(metric[i])) for i in range(18)])
    spec = KpiRegressionValue(
        "kpi_regression", "cash", "auc", 0.7, volume_kpi="atms", unit_value=3.0, max_lags=2
    )
    out = kpi_regression.value(spec, inputs(con), "USD")
    data = pd.DataFrame({"kpi": outcome, "metric": metric, "volume": volume})
    fit = smf.ols("kpi ~ metric + volume", data).fit(
        cov_type="HAC", cov_kwds={"maxlags": 2}, use_t=True
    )
    slope = fit.params["metric"]
    low, high = fit.conf_int(alpha=0.10).loc["metric"]
    # t quantiles with 18 months − 3 parameters = 15 degrees of freedom.
    assert high - slope == pytest.approx(stats.t.ppf(0.95, 15) * fit.bse["metric"])
    assert low < 2_000 < high
    # value = slope × (metric − 0.7 baseline) × 3 USD a unit
    assert out["value"].to_list() == pytest.approx(list(slope * (metric - 0.7) * 3.0), rel=1e-9)
    assert out["value_low"].to_list() == pytest.approx(list(low * (metric - 0.7) * 3.0), rel=1e-9)
    assert out["value_high"].to_list() == pytest.approx(list(high * (metric - 0.7) * 3.0), rel=1e-9)
    assert "t quantiles with 15 degrees of freedom" in out["interval_note"][0]
    assert set(out["evidence"]) == {"assumption"}
    assert out["basis"][0].startswith("correlational: cash regressed on auc over 18 months")
    few = warehouse_with(tmp_path / "few.duckdb", rows[:3], [(i, 0.8) for i in range(3)])
    short = kpi_regression.value(
        KpiRegressionValue("kpi_regression", "cash", "auc", 0.7, unit_value=1.0), inputs(few), "USD"
    )
    assert short["value"].null_count() == 3
    assert short["reason"][0].startswith("no value: 3 month(s) with both cash and auc")


def test_kpi_regression_metric_that_does_not_exist(tmp_path: Path) -> None:
    con = warehouse_with(tmp_path / "w.duckdb", [kpi("cash", 0, 1.0)], [(0, 0.8)])
    with pytest.raises(
        ConfigError,
        match=r"key 'value.metric' = 'f1': no such metric .* known "
        r"metrics: auc",
    ):
        kpi_regression.value(
            KpiRegressionValue("kpi_regression", "cash", "f1", 0.5, unit_value=1.0),
            inputs(con),
            "USD",
        )


def test_month_helper() -> None:
    assert month(13) == date(2026, 2, 1)


def test_ab_uplift_90_percent_interval_covers_a_known_uplift_in_85_to_95_percent_of_seeds(
    tmp_path: Path,
) -> None:
    # 400 independent experiments, one a month, each from its own seed: true uplift 0.04.
    p_t, p_c, n_t, n_c = 0.30, 0.26, 1500, 500
    rows = []
    for seed in range(400):
        t, c = _raw_arms(np.random.default_rng(seed), n_t, n_c, p_t, p_c)
        rows.append(arm("exp", "k", seed, "treatment", t.mean(), t.std(ddof=1), n_t))
        rows.append(arm("exp", "k", seed, "control", c.mean(), c.std(ddof=1), n_c))
    con = warehouse_with(tmp_path / "w.duckdb", rows)
    out = ab_uplift.value(
        AbUpliftValue("ab_uplift", "exp", "k", unit_value=1.0), inputs(con), "USD"
    )
    truth = (p_t - p_c) * n_t
    covered = number(((out["value_low"] <= truth) & (truth <= out["value_high"])).mean())
    assert out.height == 400 and 0.85 <= covered <= 0.95
