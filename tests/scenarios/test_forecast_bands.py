"""Cost forecasts on the log scale: bands never below zero, a level shift in the history does
not blow the band up, and a flat series' band is as narrow as its noise."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from roi import warehouse
from roi.config import ProjectConfig
from roi.progress import SILENT
from roi.scenarios.forecast import forecast, forecast_series, last_shift


def _noisy(rng: np.random.Generator, level: float, months: int, noise: float) -> np.ndarray:
    return level * (1 + rng.normal(0, noise, months))


@pytest.mark.parametrize("seed", range(10))
def test_a_flat_series_with_5_percent_noise_has_a_band_within_30_percent(seed: int) -> None:
    y = _noisy(np.random.default_rng(seed), 20_000.0, 24, 0.05)
    method, mean, lower, upper, _ = forecast_series(y, 12, 0.8, positive=True)
    assert "log cost" in method
    assert (lower >= 0).all()
    assert (lower > 0.7 * 20_000).all() and (upper < 1.3 * 20_000).all(), (lower, upper)
    assert ((lower <= mean) & (mean <= upper)).all()


@pytest.mark.parametrize("seed", range(10))
def test_a_level_shift_neither_blows_up_the_band_nor_takes_it_below_zero(seed: int) -> None:
    # A year at about 12,000 a month, then a new workload: a year at about 21,000.
    rng = np.random.default_rng(seed)
    y = np.concatenate([_noisy(rng, 12_000.0, 12, 0.04), _noisy(rng, 21_000.0, 12, 0.04)])
    assert last_shift(np.log(y)) == 12
    method, _, lower, upper, _ = forecast_series(y, 12, 0.8, positive=True)
    assert "since the level shift 12 months ago" in method
    assert (lower >= 0).all()
    assert lower[0] > 0.7 * 21_000 and upper[0] < 1.3 * 21_000, (lower[0], upper[0])
    # the additive fit of the same series (today's value and net) is what went wrong for cost
    _, _, additive_low, additive_high, _ = forecast_series(y, 12, 0.8)
    assert (upper - lower)[0] < (additive_high - additive_low)[0]


def test_months_with_no_cost_before_a_launch_still_give_a_band_at_or_above_zero() -> None:
    rng = np.random.default_rng(3)
    y = np.concatenate([np.zeros(8), _noisy(rng, 900.0, 16, 0.05)])
    _, mean, lower, upper, _ = forecast_series(y, 12, 0.8, positive=True)
    assert np.isfinite(upper).all() and (lower >= 0).all()
    assert 700 < mean[0] < 1_100 and lower[0] > 0


def test_a_short_or_refunded_cost_series_stays_at_or_above_zero() -> None:
    method, _, lower, _, _ = forecast_series(np.array([120.0, 5.0, 300.0]), 6, 0.8, positive=True)
    assert method.startswith("mean") and (lower >= 0).all()
    _, _, lower, _, _ = forecast_series(np.array([50.0, -20.0, 40.0, 0.0, 60.0]), 6, 0.8, True)
    assert (lower >= 0).all()


def test_an_odd_month_is_not_a_level_shift() -> None:
    y = np.full(24, 1_000.0) * (1 + np.random.default_rng(1).normal(0, 0.03, 24))
    y[15] = 2_500.0  # one month's spike, then back
    assert last_shift(np.log(y)) == 0


@pytest.mark.slow
def test_every_cost_band_of_the_sample_is_at_or_above_zero_and_near_its_history(
    loaded_project: ProjectConfig,
) -> None:
    models = [m.model_id for m in loaded_project.models if m.stage != "retired"]
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        table = forecast(con, models, "USD", 12, 0.8, SILENT)
        last = warehouse.fetch_frame(
            con,
            "SELECT model_id, max(cost) AS high FROM model_roi "
            "WHERE month >= (SELECT max(month) FROM model_roi) - INTERVAL 11 MONTH "
            "GROUP BY ALL UNION ALL SELECT 'PORTFOLIO', max(c) FROM (SELECT month, sum(cost) "
            "AS c FROM model_roi GROUP BY month HAVING month >= "
            "(SELECT max(month) FROM model_roi) - INTERVAL 11 MONTH)",
        )
    cost = table.filter(pl.col("measure") == "cost")
    assert cost.height == 12 * (len(models) + 1)
    assert cost["lower"].min() >= 0  # type: ignore[operator]
    assert set(cost["method"].str.contains("log cost")) == {True}
    # next month's band of the portfolio stays within ±30% of the last year's highest month
    nxt = cost.filter(pl.col("model_id") == "PORTFOLIO").sort("month").row(0, named=True)
    high = last.filter(pl.col("model_id") == "PORTFOLIO")["high"].item()
    assert 0.7 * high < nxt["lower"] <= nxt["upper"] < 1.3 * high, (nxt, high)
    assert "since the level shift" in nxt["method"]


def _damped_series(rng: np.random.Generator, n: int) -> np.ndarray:
    """A damped local-trend series (the process damped-trend ETS models)."""
    level, trend, phi, out = 100.0, 1.0, 0.9, []
    for _ in range(n):
        trend = phi * trend + rng.normal(0, 0.2)
        level = level + trend + rng.normal(0, 1.0)
        out.append(level + rng.normal(0, 1.5))
    return np.array(out)


@pytest.mark.slow
def test_log_scale_90_percent_intervals_cover_held_back_data_in_85_to_95_percent() -> None:
    # As the additive fit's test (test_models.py), on the log scale costs use.
    inside = total = 0
    for seed in range(200):
        y = _damped_series(np.random.default_rng(seed), 27)
        _, _, lower, upper, _ = forecast_series(y[:24], 3, 0.9, positive=True)
        inside += int(((y[24:] >= lower) & (y[24:] <= upper)).sum())
        total += 3
    assert 0.85 <= inside / total <= 0.95
