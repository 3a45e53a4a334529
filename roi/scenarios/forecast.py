"""Forecast: cost, value and net per model and for the portfolio, 12 months ahead, with
prediction intervals and a rolling-origin backtest beside them.

Each monthly series (from `model_roi`, months without a value skipped for value and net) is
forecast with damped-trend additive ETS (statsmodels `ETSModel`, error and trend additive,
damped) when it has at least `ETS_MIN` months, else with its mean and a t interval from its
spread (too short for a trend, ../shared/reference/methods.md §10: no seasonality under two
years); the method used is stated per series. Intervals are at `level` (default 80%, how
finance reads a band), calibrated on the backtest (`forecast_series`). The backtest refits at
`BACKTEST_ORIGINS` earlier origins and forecasts `BACKTEST_STEPS` months each: MAE in money and
MASE (MAE over the in-sample one-step naive error; below 1 beats "same as last month").

Cost is forecast on the log scale (`forecast_series(positive=True)`) from its last level shift
(`last_shift`): costs are never negative, a band on the log scale is a ratio of the level and
stays at or above zero, and a step in the history (a new workload a year ago) is neither
extrapolated as a trend nor counted as backtest error that widens every band.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist

import numpy as np
import polars as pl

from roi import warehouse
from roi.context import Context
from roi.progress import Progress
from roi.scenarios import Scenario, register
from roi.scenarios.baseline import ScenarioError, baselines, check_level
from roi.scenarios.runs import Computed, ScenarioRun, chosen_models, fingerprint, run
from roi.vocabulary import add_months
from roi.warehouse import Connection

ETS_MIN = 12
BACKTEST_ORIGINS = 4
BACKTEST_STEPS = 3
MEASURES = ("cost", "value", "net")


def _ets(y: np.ndarray, steps: int, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damped-trend additive ETS: the mean `steps` months ahead and its band at `level`."""
    from scipy.stats import norm
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    # A plain array and the band computed here rather than through `get_prediction`'s
    # summary frame: the same figures to the bit (statsmodels' own formulas, checked by
    # tests/scenarios/test_models.py), 28% less time a fit, without the pandas index and
    # the parameter covariance the frame builds and the band never uses.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short series
        fit = ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)
        mean = np.asarray(fit.forecast(steps), dtype=float)
    horizon = np.arange(1, steps + 1, dtype=float)
    variance = fit.mse * damped_trend_relative_variance(
        fit.smoothing_level, fit.smoothing_trend, fit.damping_trend, horizon
    )
    half = norm.ppf(1 - (1 - level) / 2) * np.sqrt(variance)
    return mean, mean - half, mean + half


def damped_trend_relative_variance(
    alpha: float, beta: float, phi: float, h: np.ndarray
) -> np.ndarray:
    """The h-step forecast error variance of ETS(A,Ad,N) over the one-step variance
    (Hyndman et al. 2008, Table 6.1, class 1; written as statsmodels writes it)."""
    return np.asarray(
        1
        + alpha**2 * (h - 1)
        + ((beta * phi * h) / ((1 - phi) ** 2) * (2 * alpha * (1 - phi) + beta * phi))
        - (
            (beta * phi * (1 - phi**h))
            / ((1 - phi) ** 2 * (1 - phi**2))
            * (2 * alpha * (1 - phi**2) + beta * phi * (1 + 2 * phi - phi**h))
        )
    )


def _mean(y: np.ndarray, steps: int, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from scipy import stats

    centre = float(y.mean())
    spread = float(y.std(ddof=1)) if y.size > 1 else abs(centre) * 0.5
    half = (
        float(stats.t.ppf((1 + level) / 2, max(y.size - 1, 1))) * spread * np.sqrt(1 + 1 / y.size)
    )
    mean = np.full(steps, centre)
    return mean, mean - half, mean + half


def _fit(y: np.ndarray, steps: int, level: float) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    if y.size >= ETS_MIN:
        return ("damped-trend ETS", *_ets(y, steps, level))
    if y.size >= 2:
        return ("mean (fewer than 12 months)", *_mean(y, steps, level))
    raise ScenarioError("a forecast needs at least two months of history")


# A level shift: three months' median moved by more than this many robust standard
# deviations of the month-to-month change (after the series' own drift).
SHIFT_SIGMAS = 4.0
SHIFT_WINDOW = 3


def last_shift(z: np.ndarray) -> int:
    """The index where the series' last level shift starts (0: none).

    A shift is a step between the medians of the `SHIFT_WINDOW` months either side of a month
    larger than `SHIFT_SIGMAS` robust standard deviations (1.4826 × MAD) of the month-to-month
    change, after the median change (the drift) is taken out: a new workload, a migration, a
    model going live. A single odd month moves one median of three, not both, so it is no shift;
    of the months around a step that all read as one, the largest monthly jump marks it.
    """
    w = SHIFT_WINDOW
    if z.size < 2 * w + 2:
        return 0
    d = np.diff(z)
    drift = float(np.median(d))
    scale = 1.4826 * float(np.median(np.abs(d - drift)))
    if scale <= 0:
        scale = float(np.std(d)) or 1e-12
    steps = {
        k: abs(float(np.median(z[k : k + w]) - np.median(z[k - w : k])) - w * drift)
        for k in range(w, z.size - w + 1)
    }
    significant = [k for k, step in steps.items() if step > SHIFT_SIGMAS * scale]
    if not significant:
        return 0
    # The last run of months that all read as a step: the shift is its largest monthly jump.
    run = [significant[-1]]
    while run[-1] - 1 in significant:
        run.append(run[-1] - 1)
    return max(run, key=lambda k: (abs(float(z[k] - z[k - 1])), k))


def _log_scale(y: np.ndarray) -> tuple[np.ndarray, float]:
    """A cost series on the log scale, and the offset added first where a month is zero
    (1% of the median positive month): `exp(z) − offset` is never below −offset, clipped to 0."""
    clipped = np.clip(y, 0.0, None)
    positive = clipped[clipped > 0]
    offset = 0.0 if positive.size == clipped.size else max(float(np.median(positive)) * 0.01, 0.01)
    if positive.size == 0:
        offset = 1.0
    return np.log(clipped + offset), offset


def forecast_series(
    y: np.ndarray, steps: int, level: float, positive: bool = False
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, dict[str, float | None]]:
    """(method, mean, lower, upper, backtest scores) for a monthly series.

    With `positive` (costs) the series is forecast on the log scale and its last level shift
    (`last_shift`) starts the history fitted: the band is multiplicative, never below zero,
    and a step up a year ago does not read as a trend or as forecast error. The centre is then
    the median forecast (the exponential of the log-scale mean).
    """
    if not positive:
        method, mean, lower, upper, scores = _calibrated(y, steps, level)
        return method, mean, lower, upper, scores
    z, offset = _log_scale(y)
    start = last_shift(z)
    if z.size - start < 2:
        start = max(z.size - 2, 0)
    fitted = z[start:]
    backtests = _backtests(fitted, level)  # once: for the band and for the error in money
    method, mean, lower, upper, scores = _calibrated(fitted, steps, level, backtests)

    def back(values: np.ndarray) -> np.ndarray:
        return np.asarray(np.clip(np.exp(values) - offset, 0.0, None))

    shown, low, high = back(mean), back(lower), back(upper)
    naive = float(np.mean(np.abs(np.diff(y[start:])))) if y.size - start > 1 else 0.0
    mae = scores["backtest_mae"]
    if mae is not None:  # the backtest's errors in money, not in log points
        mae = _backtest_mae(fitted, offset, backtests)
    scores = {
        **scores,
        "backtest_mae": mae,
        "backtest_mase": mae / naive if mae is not None and naive else None,
        "fitted_months": float(z.size - start),
    }
    since = f", since the level shift {z.size - start} months ago" if start else ""
    return f"{method} on log cost{since}", shown, low, high, scores


Backtest = list[tuple[int, np.ndarray, np.ndarray]]  # (origin, mean, upper) of each refit


def _backtests(y: np.ndarray, level: float) -> Backtest:
    """The rolling-origin refits: up to `BACKTEST_ORIGINS` origins, `BACKTEST_STEPS` ahead."""
    found = []
    for k in range(BACKTEST_ORIGINS, 0, -1):
        origin = y.size - k * BACKTEST_STEPS
        if origin < 4:
            continue
        _, m, _, hi = _fit(y[:origin], BACKTEST_STEPS, level)
        found.append((origin, m, hi))
    return found


def _backtest_mae(z: np.ndarray, offset: float, backtests: Backtest) -> float | None:
    """The rolling-origin backtest's mean absolute error in money, for a log-scale series."""
    errors: list[float] = []
    for origin, m, _ in backtests:
        actual = np.exp(z[origin : origin + BACKTEST_STEPS]) - offset
        errors.extend(np.abs(actual - (np.exp(m[: actual.size]) - offset)).tolist())
    return float(np.mean(errors)) if errors else None


def _calibrated(
    y: np.ndarray, steps: int, level: float, backtests: Backtest | None = None
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, dict[str, float | None]]:
    """The fit's band widened, never narrowed, by a conformal factor from the backtest:
    each rolling-origin error divided by the standard deviation the model gave it, and the
    band scaled to the ⌈(m + 1) × level⌉-th smallest of those m scores (ETS's own band
    assumes its fitted parameters are the truth, and on two years covers about three
    quarters of what it claims at 90%).
    """
    method, mean, lower, upper = _fit(y, steps, level)
    z = NormalDist().inv_cdf((1 + level) / 2)
    scores: list[float] = []
    errors: list[float] = []
    for origin, m, hi in _backtests(y, level) if backtests is None else backtests:
        actual = y[origin : origin + BACKTEST_STEPS]
        err = np.abs(actual - m[: actual.size])
        errors.extend(err.tolist())
        sd = (hi[: actual.size] - m[: actual.size]) / z
        scores.extend((err / np.where(sd > 0, sd, np.inf)).tolist())
    factor = 1.0
    if scores:
        ordered = sorted(scores)
        rank = min(int(np.ceil((len(ordered) + 1) * level)) - 1, len(ordered) - 1)
        factor = max(ordered[rank] / z, 1.0)
    half_low, half_high = (mean - lower) * factor, (upper - mean) * factor
    naive = float(np.mean(np.abs(np.diff(y)))) if y.size > 1 else 0.0
    mae = float(np.mean(errors)) if errors else None
    backtest = {
        "backtest_mae": mae,
        "backtest_mase": mae / naive if mae is not None and naive else None,
        "interval_factor": factor,
        "fitted_months": float(y.size),
    }
    return method, mean, mean - half_low, mean + half_high, backtest


def history(con: Connection, models: list[str], currency: str) -> pl.DataFrame:
    """Monthly cost, value and net per model, and the portfolio (`PORTFOLIO`): every model's
    cost, retired ones included (what they still cost is the portfolio's too), and the value
    known."""
    every = warehouse.fetch_frame(
        con,
        """SELECT month, model_id, cost, value, net FROM model_roi
           WHERE currency = ? ORDER BY model_id, month""",
        [currency],
    )
    frame = every.filter(pl.col("model_id").is_in(models))
    total = every.group_by("month").agg(
        pl.lit("PORTFOLIO").alias("model_id"), pl.col("cost").sum(), pl.col("value").sum()
    )
    total = total.with_columns(net=pl.col("value") - pl.col("cost"))
    return pl.concat([frame, total.select(frame.columns)]).sort("model_id", "month")


Fitted = tuple[str, np.ndarray, np.ndarray, np.ndarray, dict[str, float | None]]
SeriesTask = tuple[np.ndarray, int, float, bool]  # (history, steps, level, positive)

# From this many series on, the fits run in one process per core: each series is independent
# (so the figures are those of one process), and a worker's start (importing statsmodels,
# about a second) is paid back by a few dozen fits.
PARALLEL_MIN = 60
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _one(task: SeriesTask) -> Fitted:
    y, steps, level, positive = task
    return forecast_series(y, steps, level, positive)


def _forecast_all(tasks: list[SeriesTask], progress: Progress) -> list[Fitted]:
    """`forecast_series` of every task, in order: in worker processes when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(tasks) < PARALLEL_MIN or workers < 2:
        return [_one(task) for task in progress.track(tasks, "forecasting")]
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    # forkserver, not fork: the parent holds DuckDB's and Polars' threads. One BLAS thread
    # per worker: a fit's matrices are tiny, and two workers each spinning two OpenBLAS
    # threads on two cores ran 2.4× slower than one process.
    single = {name: "1" for name in BLAS_THREADS}
    saved = {name: os.environ.get(name) for name in single}
    os.environ.update(single)
    try:
        # The fork server imports SciPy's statistics once (half of a worker's start), not
        # statsmodels: that imports Polars, whose threads a process must not hold when it forks.
        context = get_context("forkserver")
        context.set_forkserver_preload(["scipy.stats"])
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [pool.submit(_one, task) for task in tasks]
            return [future.result() for future in progress.track(futures, "forecasting")]
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def forecast(
    con: Connection,
    models: list[str],
    currency: str,
    steps: int,
    level: float,
    progress: Progress,
) -> pl.DataFrame:
    """One row per model (and PORTFOLIO), measure and future month: mean and interval, with
    the method and the backtest error of the series."""
    check_level(level, "0.8")
    if not 1 <= steps <= 36:
        raise ScenarioError(f"--months {steps} must be from 1 to 36")
    data = history(con, models, currency)
    if not data.height:
        raise ScenarioError("no model P&L to forecast; run `roi run` first")
    tasks: list[tuple[str, str, date, np.ndarray]] = []
    for part in data.partition_by("model_id", maintain_order=True):
        for measure in MEASURES:
            series = part.filter(pl.col(measure).is_not_null())
            if series.height < 2:
                continue
            last = series["month"].max()
            assert isinstance(last, date)
            y = series[measure].to_numpy().astype(float)
            tasks.append((str(part["model_id"][0]), measure, last, y))
    fits = _forecast_all([(y, steps, level, m == "cost") for _, m, _, y in tasks], progress)
    rows: list[dict[str, object]] = []
    for (model_id, measure, last, y), (method, mean, lower, upper, scores) in zip(
        tasks, fits, strict=True
    ):
        for i in range(steps):
            rows.append(
                {
                    "model_id": model_id,
                    "measure": measure,
                    "month": add_months(last, i + 1),
                    "forecast": float(mean[i]),
                    "lower": float(lower[i]),
                    "upper": float(upper[i]),
                    "level": level,
                    "method": method,
                    "history_months": int(y.size),
                    **scores,
                }
            )
    return pl.DataFrame(rows, infer_schema_length=None)


@dataclass(frozen=True)
class ForecastOptions:
    """`roi scenario forecast`: one model (else every model and the portfolio)."""

    model: str | None = None
    months: int = 12
    level: float = 0.8


def run_forecast(ctx: Context, options: ForecastOptions) -> ScenarioRun:
    """Cost, value and net forecasts with intervals, per model and for the portfolio."""
    model, months, level = options.model, options.months, options.level
    models = chosen_models(ctx, model, model is None)
    check_level(level, "0.8")

    def compute(con: Connection) -> Computed:
        table = forecast(con, models, ctx.project.project.currency, months, level, ctx.progress)
        if model:
            table = table.filter(pl.col("model_id") == model)
        inputs = {
            "models": models,
            "months": months,
            "level": level,
            **fingerprint(con, baselines(con, ctx.project)),
        }
        outputs: dict[str, object] = {"forecast": table.to_dicts()}
        if not table.height:
            outputs["notes"] = [
                "nothing to forecast: a series needs at least two months of history, and no "
                "model has two months of cost yet; load more months of billing and run again"
            ]
        return Computed(inputs, outputs, table)

    return run(ctx, f"forecast {model or '--all'}", None, compute)


register(Scenario("forecast", ForecastOptions, run_forecast, lambda _project: ForecastOptions()))
