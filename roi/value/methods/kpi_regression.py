"""`kpi_regression`: the KPI explained by the model's quality metric, estimated from history.

The model's monthly KPI is regressed on its monthly mean metric (and on a volume KPI, if
declared, so that traffic growth is not read as quality) by OLS with Newey–West (HAC) errors,
`max_lags` months: `kpi ~ metric [+ volume]`. The slope is KPI units per metric unit, with its
interval at the declared level from t quantiles with the residual degrees of freedom (a short
series makes normal quantiles too narrow); the value of a month is
slope × (metric − baseline_metric) × unit value: what the model's quality above a simple
rule's earns. This is correlational (../shared/reference/methods.md §5): it is graded an
assumption, and its main use is as the KPI sensitivity that decay and risk scenarios price a
metric drop with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from roi.value.inputs import ValueInputs
from roi.value.methods import Driven, Method, finish, register
from roi.value.methods.common import (
    NOT_NEGATIVE,
    SHARE,
    UNIT_VALUE,
    join_series,
    load_ids,
    unit_value_need,
    with_unit_values,
)

MIN_MONTHS = 8  # fewer points than this leave a slope no one should price risk with


@dataclass(frozen=True)
class KpiRegressionValue:
    """KPI points per metric point, estimated from history (correlational; used by decay and
    risk), and the KPI the metric earns above a baseline metric (what a simple rule scores)."""

    method: Literal["kpi_regression"]
    kpi: str
    metric: str
    baseline_metric: float
    volume_kpi: str | None = None  # a control for traffic in the regression
    unit_value_kpi: str | None = None
    unit_value: float | None = field(default=None, metadata=UNIT_VALUE)
    max_lags: int = field(default=3, metadata=NOT_NEGATIVE)
    level: float = field(default=0.9, metadata=SHARE)
    unit: str | None = None


@dataclass(frozen=True)
class Slope:
    """KPI units per metric unit, with its interval and fit."""

    slope: float
    low: float
    high: float
    std_error: float
    p_value: float
    months: int
    r_squared: float
    note: str


def estimate(frame: pl.DataFrame, controls: tuple[str, ...], max_lags: int, level: float) -> Slope:
    """OLS of `kpi` on `metric` (and the `controls` columns) with HAC errors."""
    import statsmodels.formula.api as smf

    formula = " + ".join(("kpi ~ metric", *controls))
    data = frame.select("kpi", "metric", *controls).to_pandas()
    result = smf.ols(formula, data).fit(cov_type="HAC", cov_kwds={"maxlags": max_lags}, use_t=True)
    low, high = (float(v) for v in result.conf_int(alpha=1 - level).loc["metric"])
    return Slope(
        slope=float(result.params["metric"]),
        low=low,
        high=high,
        std_error=float(result.bse["metric"]),
        p_value=float(result.pvalues["metric"]),
        months=int(result.nobs),
        r_squared=float(result.rsquared),
        note=(
            f"{level:.0%} interval, OLS {formula} with HAC errors ({max_lags} lags), "
            f"t quantiles with {int(result.df_resid)} degrees of freedom"
        ),
    )


def inputs_frame(spec: KpiRegressionValue, inputs: ValueInputs) -> pl.DataFrame:
    """Per month: the KPI, the mean metric and (if declared) the volume, with load ids."""
    kpi = inputs.series(spec.kpi, "value.kpi").rename({"value": "kpi"})
    metric = inputs.metric_series(spec.metric, "value.metric")
    frame = kpi.join(metric, on="month", how="left")
    return join_series(frame, inputs, spec.volume_kpi, "value.volume_kpi", "volume", pl.lit(None))


def value(spec: KpiRegressionValue, inputs: ValueInputs, currency: str) -> pl.DataFrame:
    """Monthly value rows of a model valued by its metric's regression on its KPI."""
    frame = inputs_frame(spec, inputs)
    complete = frame.drop_nulls(["kpi", "metric", *(["volume"] if spec.volume_kpi else [])])
    frame = with_unit_values(frame, inputs, spec.unit_value_kpi, spec.unit_value, currency)
    if complete.height < MIN_MONTHS:
        reason = (
            f"no value: {complete.height} month(s) with both {spec.kpi} and {spec.metric}; "
            f"a KPI regression needs at least {MIN_MONTHS}"
        )
        slope = low = high = None
        note = "no interval: too few months to estimate"
        basis = f"KPI {spec.kpi} regressed on {spec.metric}"
    else:
        controls = ("volume",) if spec.volume_kpi else ()
        fit = estimate(complete, controls, spec.max_lags, spec.level)
        slope, low, high, note, reason = fit.slope, fit.low, fit.high, fit.note, None
        basis = (
            f"correlational: {spec.kpi} regressed on {spec.metric} over {fit.months} months, "
            f"{fit.slope / 100:,.4g} per 0.01 of {spec.metric}; value above a baseline "
            f"{spec.metric} of {spec.baseline_metric:g}"
        )
    excess = (pl.col("metric") - spec.baseline_metric) * pl.col("unit_value")
    bound_low, bound_high = excess * pl.lit(low), excess * pl.lit(high)
    return finish(
        frame.with_columns(
            value=excess * pl.lit(slope, pl.Float64),
            value_low=pl.min_horizontal(bound_low, bound_high),
            value_high=pl.max_horizontal(bound_low, bound_high),
            interval_note=pl.lit(note),
            reason=pl.lit(reason, pl.String),
            volume=pl.col("volume") if spec.volume_kpi else pl.lit(None, pl.Float64),
            unit=pl.lit(spec.unit or spec.volume_kpi or spec.kpi),
            evidence=pl.lit("assumption"),
            basis=pl.lit(basis),
            load_ids=load_ids("load_ids", "metric_load_ids", "volume_load_ids", "unit_load"),
        ),
        {"metric": f"metric {spec.metric}", **unit_value_need(spec.unit_value_kpi)},
    )


def _drives(spec: KpiRegressionValue) -> Driven:
    return Driven(spec.kpi, spec.volume_kpi, spec.unit_value_kpi, spec.unit_value)


register(Method("kpi_regression", KpiRegressionValue, value, _drives))
