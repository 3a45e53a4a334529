"""Failure exposure against closed forms: degenerate inputs exactly, a lognormal's VaR and ES
within 1%, Poisson counts on average, correlation fattening the tail, EU AI Act fines."""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest

from roi.attribution.checks import unknown_correlations
from roi.errors import ConfigError
from roi.scenarios.baseline import DAYS_PER_MONTH, ScenarioError
from roi.scenarios.failure import correlation_matrix, exposure, max_fine
from tests.helpers import number, object_at, rows_at
from tests.scenarios.projects import baseline, project


def test_degenerate_inputs_give_the_closed_form_exactly(tmp_path: Path) -> None:
    config = project(
        tmp_path,
        {
            "a": """[[risks]]
name = "drift"
frequency_per_year = 2
events = "fixed"
metric_drop = 0.03
detection_delay_days = 20
fix_days = 10
recovery_cost = 1000""",
            "b": """[[risks]]
name = "outage"
kind = "outage"
frequency_per_year = 1
events = "fixed"
detection_delay_days = 1
fix_days = 2
recovery_cost = 500""",
        },
    )
    base = {"a": baseline("a", value_per_point=500.0), "b": baseline("b", recent_value=9_000.0)}
    out = exposure(config, base, ["a", "b"], 5_000, seed=1, level=0.95)
    # a: 2 events × (500 a point × 3 points × 30 days / 30.4375 days a month + 1,000)
    a = 2 * (500 * 3 * 30 / DAYS_PER_MONTH + 1000)
    # b: 1 outage × (9,000 a month × 3 days / 30.4375 + 500)
    b = 9_000 * 3 / DAYS_PER_MONTH + 500
    rows = {r["model_id"]: r for r in rows_at(out, "models")}
    for model_id, expected in (("a", a), ("b", b)):
        for key in ("expected_annual_loss", "p50", "p99", "var", "expected_shortfall", "max"):
            assert rows[model_id][key] == pytest.approx(expected, rel=1e-12)
        assert rows[model_id]["mc_standard_error"] == 0
    assert object_at(out, "portfolio")["expected_annual_loss"] == pytest.approx(a + b, rel=1e-12)


def test_lognormal_severity_var_and_es_within_one_percent_of_analytic(tmp_path: Path) -> None:
    median, sigma, level = 20_000.0, 0.8, 0.95
    config = project(
        tmp_path,
        {
            "m": f"""[[risks]]
name = "abuse"
kind = "adversarial"
frequency_per_year = 1
events = "fixed"
recovery_cost = {{ median = {median}, sigma = {sigma} }}"""
        },
    )
    out = exposure(config, {"m": baseline("m")}, ["m"], 200_000, seed=3, level=level)
    row = rows_at(out, "models")[0]
    z = NormalDist().inv_cdf(level)
    var = median * math.exp(sigma * z)
    es = median * math.exp(sigma**2 / 2) * NormalDist().cdf(sigma - z) / (1 - level)
    assert row["var"] == pytest.approx(var, rel=0.01)
    assert row["expected_shortfall"] == pytest.approx(es, rel=0.01)
    assert row["expected_annual_loss"] == pytest.approx(median * math.exp(sigma**2 / 2), rel=0.01)


def test_poisson_counts_and_pert_severity_on_average(tmp_path: Path) -> None:
    config = project(
        tmp_path,
        {
            "m": """[[risks]]
name = "drift"
frequency_per_year = 3
metric_drop = [0.01, 0.02, 0.06]
detection_delay_days = [10, 20, 60]
recovery_cost = [1000, 2000, 6000]"""
        },
    )
    out = exposure(config, {"m": baseline("m", value_per_point=200.0)}, ["m"], 200_000, 5, 0.95)
    row = rows_at(out, "models")[0]

    def pert(lo: float, mo: float, hi: float) -> float:  # the mean of a PERT distribution
        return (lo + 4 * mo + hi) / 6

    # E[loss] = λ × (v × 100 × E[drop] × E[delay] / 30.4375 + E[recovery]) (independent inputs)
    expected = 3 * (
        200 * 100 * pert(0.01, 0.02, 0.06) * pert(10, 20, 60) / DAYS_PER_MONTH
        + pert(1000, 2000, 6000)
    )
    assert abs(row["expected_annual_loss"] - expected) < 4 * row["mc_standard_error"]


def _two_models(tmp_path: Path, correlated: bool) -> dict[str, object]:
    body = """[[risks]]
name = "upstream feed"
frequency_per_year = 0.3
metric_drop = [0.02, 0.05, 0.1]
detection_delay_days = [5, 20, 60]
recovery_cost = 5000"""
    config = project(
        tmp_path / ("c" if correlated else "i"),
        {"a": body + ('\ncorrelated_with = ["b"]' if correlated else ""), "b": body},
        risk="[risk]\nshared_cause_correlation = 0.9" if correlated else "",
    )
    base = {"a": baseline("a", 800.0), "b": baseline("b", 800.0)}
    return exposure(config, base, ["a", "b"], 100_000, seed=11, level=0.99)


def test_a_declared_correlation_fattens_the_portfolio_tail(tmp_path: Path) -> None:
    alone, together = _two_models(tmp_path, False), _two_models(tmp_path, True)
    for key in ("expected_annual_loss",):  # each model's own distribution is kept
        assert rows_at(together, "models")[0][key] == pytest.approx(
            rows_at(alone, "models")[0][key], rel=1e-12
        )
    assert object_at(together, "portfolio")["p99"] > 1.2 * object_at(alone, "portfolio")["p99"]
    assert object_at(together, "portfolio")["independent_p99"] == pytest.approx(
        object_at(alone, "portfolio")["p99"]
    )


def test_the_same_seed_gives_the_same_numbers(tmp_path: Path) -> None:
    config = project(
        tmp_path,
        {
            "m": """[[risks]]
name = "drift"
frequency_per_year = [1, 2, 5]
metric_drop = [0.01, 0.02, 0.06]
detection_delay_days = [5, 10, 30]"""
        },
    )
    runs = [exposure(config, {"m": baseline("m")}, ["m"], 10_000, s, 0.9) for s in (4, 4, 5)]
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_eu_ai_act_fine_tiers(tmp_path: Path) -> None:
    config = project(tmp_path, {}, risk="[risk]\nannual_turnover = 4e9\neur_rate = 1.08")
    # High-risk obligations: the higher of EUR 15M and 3% of turnover (4e9 USD = 3.70e9 EUR).
    assert max_fine("high_risk", config.risk) == pytest.approx(0.03 * 4e9)
    small = project(tmp_path / "s", {}, risk="[risk]\nannual_turnover = 4e7\nsme = true")
    assert max_fine("prohibited", small.risk) == pytest.approx(0.07 * 4e7)  # the lower for SMEs
    none = project(tmp_path / "n", {})
    assert max_fine("information", none.risk) == 7_500_000.0
    fined = project(
        tmp_path / "f",
        {
            "m": """[[risks]]
name = "breach"
kind = "compliance"
tier = "high_risk"
frequency_per_year = 1
events = "fixed"
fine_share = 0.01
recovery_cost = 100000"""
        },
        risk="[risk]\nannual_turnover = 4e9",
    )
    out = exposure(fined, {"m": baseline("m")}, ["m"], 2_000, 1, 0.95)
    assert rows_at(out, "models")[0]["expected_annual_loss"] == pytest.approx(
        0.01 * 0.03 * 4e9 + 100_000
    )


@pytest.mark.parametrize(
    ("risk", "message"),
    [
        ("frequency_per_year = -1", r"key 'risks\[1\].frequency_per_year' = -1 is not allowed"),
        ("frequency_per_year = [3, 2, 1]", r"key 'risks\[1\].frequency_per_year' must be a number"),
        (
            'frequency_per_year = 1\nkind = "compliance"',
            r"a compliance risk needs key 'risks\[1\].tier'",
        ),
    ],
)
def test_bad_risk_declarations_name_the_file_and_key(
    tmp_path: Path, risk: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        project(tmp_path, {"m": f'[[risks]]\nname = "x"\n{risk}'})


def test_a_correlation_with_an_undefined_model_is_a_warning(tmp_path: Path) -> None:
    config = project(
        tmp_path,
        {"m": '[[risks]]\nname = "x"\nfrequency_per_year = 1\ncorrelated_with = ["nobody"]'},
    )
    [warning] = unknown_correlations(config)
    assert "m.toml: [[risks]] 'x': correlated_with names no model: nobody" in warning
    assert correlation_matrix(config, ["m"], 0.0).tolist() == [[1.0]]


def test_bad_levels_and_correlations(tmp_path: Path) -> None:
    config = project(tmp_path, {"m": '[[risks]]\nname = "x"\nfrequency_per_year = 1'})
    with pytest.raises(ScenarioError, match=r"--level 1.5 must be between 0 and 1"):
        exposure(config, {"m": baseline("m")}, ["m"], 1_000, 1, 1.5)
    with pytest.raises(ScenarioError, match=r"--correlation 1.0 must be from 0 to below 1"):
        exposure(config, {"m": baseline("m")}, ["m"], 1_000, 1, 0.9, correlation=1.0)
    out = exposure(config, {"m": baseline("m")}, ["m"], 1_000, 1, 0.9)
    assert np.isfinite(number(object_at(out, "portfolio")["p99"]))
