"""`ab_uplift`: treatment minus control per unit, scaled to the treated volume, with an interval.

Per month with both arms: uplift = mean(treatment) − mean(control); its standard error from the
arms' standard deviations and units (unequal variances) and Welch–Satterthwaite degrees of
freedom give a t interval at the declared level (default 90%) from statsmodels. value = uplift
× exposed volume (the `volume_kpi` series, else the treatment arm's units) × unit value; the
bounds scale the same way. Graded an experiment.
"""

from __future__ import annotations

import math

import polars as pl
from statsmodels.stats.weightstats import _tconfint_generic

from roi.config.models import AbUpliftValue
from roi.value.inputs import ValueInputs
from roi.value.methods import finish
from roi.value.methods.common import join_series, load_ids, with_unit_values


def welch_interval(
    mean_t: float, sd_t: float, n_t: float, mean_c: float, sd_c: float, n_c: float, level: float
) -> tuple[float, float, float]:
    """(difference, low, high) of two means with unequal variances (Welch)."""
    var_t, var_c = sd_t**2 / n_t, sd_c**2 / n_c
    se = math.sqrt(var_t + var_c)
    dof = (var_t + var_c) ** 2 / (var_t**2 / (n_t - 1) + var_c**2 / (n_c - 1))
    diff = mean_t - mean_c
    low, high = _tconfint_generic(diff, se, dof, 1 - level, "two-sided")
    return diff, float(low), float(high)


def value(spec: AbUpliftValue, inputs: ValueInputs, currency: str) -> pl.DataFrame:
    """Monthly value rows of a model measured by an experiment or holdout."""
    arms = inputs.arms(spec.experiment, spec.kpi, "value.kpi")
    rows = []
    for r in arms.iter_rows(named=True):
        diff, low, high = welch_interval(
            r["mean"], r["std_dev"], r["n"], r["mean_control"], r["std_dev_control"],
            r["n_control"], spec.level,
        )  # fmt: skip
        rows.append(
            {
                "month": r["month"],
                "uplift": diff,
                "uplift_low": low,
                "uplift_high": high,
                "units": float(r["n"]),
                "arm_load_ids": sorted({r["_load_id"], r["_load_id_control"]}),
            }
        )
    frame = pl.DataFrame(rows)
    frame = join_series(
        frame, inputs, spec.volume_kpi, "value.volume_kpi", "volume", pl.col("units")
    )
    frame = with_unit_values(frame, inputs, spec.unit_value_kpi, spec.unit_value, currency)
    scale = pl.col("volume") * pl.col("unit_value")
    bound_low, bound_high = pl.col("uplift_low") * scale, pl.col("uplift_high") * scale
    return finish(
        frame.with_columns(
            value=pl.col("uplift") * scale,
            value_low=pl.min_horizontal(bound_low, bound_high),
            value_high=pl.max_horizontal(bound_low, bound_high),
            interval_note=pl.lit(f"{spec.level:.0%} Welch interval of the uplift"),
            unit=pl.lit(spec.unit or spec.volume_kpi or "experiment units"),
            evidence=pl.lit("experiment"),
            basis=pl.lit(f"experiment {spec.experiment}: {spec.kpi} treatment − control"),
            load_ids=load_ids("arm_load_ids", "volume_load_ids", "unit_load"),
        )
    )
