"""Decay, forecast and retraining against simulations with a known truth and closed forms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from roi import warehouse
from roi.config import ProjectConfig
from roi.scenarios.decay import Decay, fit_decay
from roi.scenarios.forecast import _ets, forecast_series, history
from roi.scenarios.retrain import WEEKS_PER_MONTH, _yearly
from tests.helpers import copy_warehouse, number, rows_at
from tests.scenarios.projects import baseline

DAYS_PER_MONTH = 365.25 / 12


def _metric_history(rng: np.random.Generator, decay: float, versions: int = 6) -> pl.DataFrame:
    """Weekly metric, retrained every 13 weeks: best − decay × age + noise."""
    rows = []
    start = datetime(2025, 1, 6, tzinfo=UTC)
    for v in range(versions):
        best = 0.85 + rng.normal(0, 0.005)
        for w in range(13):
            ts = start + timedelta(weeks=13 * v + w)
            age = w * 7 / DAYS_PER_MONTH
            rows.append(
                {
                    "ts": ts,
                    "value": best - decay * age + rng.normal(0, 0.002),
                    "version": f"v{v}",
                    "age": age,
                }
            )
    return pl.DataFrame(rows)


def test_decay_recovers_a_simulated_rate_within_its_interval_in_85_percent_of_seeds() -> None:
    truth = 0.004
    covered = 0
    for seed in range(200):
        per_month, low, high, _ = fit_decay(
            _metric_history(np.random.default_rng(seed), truth), True, 0.9, 4
        )
        covered += low <= truth <= high
        assert per_month == pytest.approx(truth, abs=0.002)
    assert covered / 200 >= 0.85


def test_decay_of_a_metric_where_lower_is_better() -> None:
    history = _metric_history(np.random.default_rng(1), -0.003)  # the metric rises: an error rate
    per_month, low, high, _ = fit_decay(history, False, 0.9, 4)
    assert 0 < low <= per_month <= high and per_month == pytest.approx(0.003, abs=0.0005)


def _damped_series(rng: np.random.Generator, n: int) -> np.ndarray:
    """A damped local-trend series (the process damped-trend ETS models)."""
    level, trend, phi, out = 100.0, 1.0, 0.9, []
    for _ in range(n):
        trend = phi * trend + rng.normal(0, 0.2)
        level = level + trend + rng.normal(0, 1.0)
        out.append(level + rng.normal(0, 1.5))
    return np.array(out)


@pytest.mark.slow
def test_ets_90_percent_intervals_cover_held_back_data_in_85_to_95_percent() -> None:
    # Two years of history, the next quarter held back, 200 simulated series.
    inside = total = 0
    for seed in range(200):
        y = _damped_series(np.random.default_rng(seed), 27)
        method, _, lower, upper, _ = forecast_series(y[:24], 3, 0.9)
        assert method == "damped-trend ETS"
        inside += int(((y[24:] >= lower) & (y[24:] <= upper)).sum())
        total += 3
    assert 0.85 <= inside / total <= 0.95


def test_the_band_is_statsmodels_own_prediction_interval_to_the_bit() -> None:
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    for seed, n in enumerate((12, 17, 24, 36)):
        y = np.log(_damped_series(np.random.default_rng(seed), n) + 50.0)
        fit = ETSModel(
            pd.Series(y, index=pd.RangeIndex(n)), error="add", trend="add", damped_trend=True
        ).fit(disp=False)
        frame = fit.get_prediction(start=n, end=n + 11).summary_frame(alpha=0.2)
        mean, lower, upper = _ets(y, 12, 0.8)
        assert mean.tolist() == frame["mean"].tolist()
        assert lower.tolist() == frame["pi_lower"].tolist()
        assert upper.tolist() == frame["pi_upper"].tolist()


def test_short_series_fall_back_to_a_mean_with_a_t_interval() -> None:
    y = np.array([10.0, 12.0, 11.0, 13.0, 12.0])
    method, mean, lower, upper, _ = forecast_series(y, 4, 0.8)
    assert method.startswith("mean") and mean.tolist() == [11.6] * 4
    assert (lower < 11.6).all() and (upper > 11.6).all()


def test_backtest_error_of_a_straight_line_is_nearly_zero() -> None:
    _, mean, _, _, scores = forecast_series(100 + 2.0 * np.arange(24), 3, 0.8)
    assert scores["backtest_mae"] == pytest.approx(0.0, abs=0.5)
    assert mean[0] == pytest.approx(148.0, abs=1.0)


def test_retraining_closed_form() -> None:
    # v = 100 a point a month, d = 0.005 a month, C = 2,000 a run, every 3 months:
    # decay loss 12 × 100 × 100 × 0.005 × 3 / 2 = 900; retraining 12 / 3 × 2,000 = 8,000.
    loss, retraining = _yearly(100.0, np.full(10, 0.005), 3.0, 2_000.0)
    assert (loss, retraining) == pytest.approx((900.0, 8_000.0))
    # the optimum sqrt(2C / (v × 100 × d)) = sqrt(4000 / 50) ≈ 8.94 months is the cheapest
    costs = {t: sum(_yearly(100.0, np.full(1, 0.005), t, 2_000.0)) for t in (6.0, 8.94, 12.0)}
    assert min(costs, key=costs.__getitem__) == 8.94
    assert pytest.approx(52 / 12) == WEEKS_PER_MONTH


def test_retrain_picks_the_cheapest_policy(tmp_path: Path) -> None:
    from roi.config.models import ModelConfig, QualityConfig
    from roi.scenarios import retrain as retrain_module

    model = ModelConfig(
        model_id="m",
        name="m",
        owner="o",
        business_unit="b",
        stage="production",
        file=tmp_path / "m.toml",
        quality=QualityConfig(metric="auc", retrain_every_months=12, retraining_cost=2_000.0),
    )
    measured = Decay("m", "auc", 50, 4, 0.005, 0.004, 0.006, 0.0, True, None, 0.005, "measured", "")
    with duckdb.connect() as empty:  # the declared retraining cost: nothing is read
        out = retrain_module.retrain(
            empty, model, baseline("m", value_per_point=100.0), measured, 2_000, 1, 0.9
        )
    policies = {p["policy"]: p["yearly_cost"] for p in rows_at(out, "policies")}
    assert out["best_yearly_cost"] == min(
        v for k, v in policies.items() if not k.startswith("today")
    )
    assert out["margin_over_today"] == pytest.approx(
        policies["today: every 12 month(s)"] - out["best_yearly_cost"]
    )
    assert 6 < number(out["optimal_months_between"]) < 12


def test_the_portfolio_forecast_keeps_a_retired_model_s_cost(
    loaded_project: ProjectConfig,
) -> None:
    live = [m.model_id for m in loaded_project.models if m.stage != "retired"]
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        data = history(con, live, "USD")
        every = warehouse.fetch_frame(
            con,
            "SELECT month, sum(cost) AS cost, sum(cost) FILTER (model_id = 'aml-screening') "
            "AS retired FROM model_roi GROUP BY month",
        )
    assert "aml-screening" not in set(data["model_id"])  # no forecast of its own
    total = data.filter(pl.col("model_id") == "PORTFOLIO").join(every, on="month")
    assert total.height == every.height
    assert number((total["cost"] - total["cost_right"]).abs().max()) < 1e-6
    october = total.filter(pl.col("month") == date(2026, 10, 1)).row(0, named=True)
    live_cost = data.filter(
        (pl.col("month") == date(2026, 10, 1)) & (pl.col("model_id") != "PORTFOLIO")
    )["cost"].sum()
    assert october["retired"] > 0
    assert october["cost"] - live_cost == pytest.approx(october["retired"], abs=1e-6)


def test_the_monthly_decay_run_gives_what_measuring_again_gives(
    loaded_project: ProjectConfig,
) -> None:
    """The report reads each model's decay from the stored monthly run instead of fitting it
    again: the stored figures are the fit's (a run stores 12 significant digits)."""
    from roi.scenarios.decay import decay, stored_decays

    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        stored = stored_decays(con, loaded_project)
        assert stored is not None
        measured = {m.model_id: decay(con, m, 0.9) for m in loaded_project.models}
    assert stored.keys() <= measured.keys()
    assert any(d.measured for d in stored.values())
    figures = ("per_month", "low", "high", "p_value", "declared", "used")
    for model_id, found in stored.items():
        again = measured[model_id]
        for name in figures:
            a, b = getattr(found, name), getattr(again, name)
            assert (a is None and b is None) or a == pytest.approx(b, rel=1e-11), (model_id, name)
        rest = [name for name in Decay.__dataclass_fields__ if name not in figures]
        assert [getattr(found, n) for n in rest] == [getattr(again, n) for n in rest], model_id


def test_no_stored_decay_once_the_inputs_changed(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    """A stored run made from other inputs (here: another roi version) is not used."""

    from roi.scenarios.decay import stored_decays

    copy = copy_warehouse(loaded_project.warehouse_path, tmp_path)
    with warehouse.open_warehouse(copy) as con:
        con.execute("UPDATE _reuse SET inputs_key = 'other' WHERE product = 'scenario:decay'")
        assert stored_decays(con, loaded_project) is None


@pytest.mark.slow
def test_many_series_are_forecast_in_worker_processes_with_the_same_figures() -> None:
    """From `PARALLEL_MIN` series on, the fits run in one process per core: the figures are
    those of fitting each series here."""
    from roi.progress import SilentProgress
    from roi.scenarios.forecast import PARALLEL_MIN, _forecast_all, forecast_series

    rng = np.random.default_rng(7)
    tasks = []
    for i in range(PARALLEL_MIN + 4):
        months = 14 if i % 8 == 0 else 6  # a few damped-trend ETS fits, the rest means
        base = rng.uniform(1_000, 50_000)
        y = base * (1 + 0.02 * np.arange(months)) + rng.normal(0, base * 0.05, months)
        tasks.append((y, 6, 0.8, i % 2 == 0))
    together = _forecast_all(tasks, SilentProgress())
    assert len(together) == len(tasks)
    for task, (method, mean, lower, upper, scores) in zip(tasks, together, strict=True):
        alone = forecast_series(*task)
        assert method == alone[0]
        for got, want in zip((mean, lower, upper), alone[1:4], strict=True):
            assert np.array_equal(got, want)
        assert scores == alone[4]
