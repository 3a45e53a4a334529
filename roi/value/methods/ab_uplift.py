"""`ab_uplift`: treatment minus control per unit, scaled to the treated volume, with an interval.

Per month with both arms: uplift = mean(treatment) − mean(control); its standard error from the
arms' standard deviations and units (unequal variances) and Welch–Satterthwaite degrees of
freedom give a t interval at the declared level (default 90%) from statsmodels. value = uplift
× exposed volume (the `volume_kpi` series, else the treatment arm's units) × unit value; the
bounds scale the same way. Graded an experiment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from roi.value.inputs import ValueInputs
from roi.value.methods import Method, finish, register
from roi.value.methods.common import (
    SHARE,
    UNIT_VALUE,
    join_series,
    load_ids,
    unit_value_need,
    with_unit_values,
)


@dataclass(frozen=True)
class AbUpliftValue:
    """Treatment minus control per unit, from experiment arms, scaled to the treated volume."""

    method: Literal["ab_uplift"]
    experiment: str
    kpi: str
    volume_kpi: str | None = None
    unit_value_kpi: str | None = None
    unit_value: float | None = field(default=None, metadata=UNIT_VALUE)
    level: float = field(default=0.9, metadata=SHARE)
    unit: str | None = None


def welch_interval(
    mean_t: float, sd_t: float, n_t: float, mean_c: float, sd_c: float, n_c: float, level: float
) -> tuple[float, float, float]:
    """(difference, low, high) of two means with unequal variances (Welch)."""
    from statsmodels.stats.weightstats import _tconfint_generic  # slow to import: on use

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
        units = None if r["n"] is None else float(r["n"])
        row: dict[str, object] = {"month": r["month"], "units": units, "reason": None}
        missing = [arm for arm in ("", "_control") if r[f"mean{arm}"] is None]
        if missing:
            arm = "control" if missing == ["_control"] else "treatment"
            if len(missing) == 2:
                arm = "treatment and control"
            row["reason"] = f"no value: experiment {spec.experiment} has no {arm} arm for " + (
                f"{r['month']:%Y-%m}"
            )
        elif min(r["n"], r["n_control"]) < 2:
            row["reason"] = (
                f"no value: an arm of experiment {spec.experiment} has fewer than 2 units in "
                f"{r['month']:%Y-%m}"
            )
        else:
            diff, low, high = welch_interval(
                r["mean"], r["std_dev"], r["n"], r["mean_control"], r["std_dev_control"],
                r["n_control"], spec.level,
            )  # fmt: skip
            row |= {"uplift": diff, "uplift_low": low, "uplift_high": high}
        row["arm_load_ids"] = sorted(
            {i for i in (r["_load_id"], r["_load_id_control"]) if i is not None}
        )
        rows.append(row)
    frame = pl.DataFrame(
        rows,
        schema={
            "month": pl.Date, "units": pl.Float64, "reason": pl.String, "uplift": pl.Float64,
            "uplift_low": pl.Float64, "uplift_high": pl.Float64, "arm_load_ids": pl.List(pl.String),
        },
    )  # fmt: skip
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
        ),
        {
            **({"volume": f"KPI {spec.volume_kpi}"} if spec.volume_kpi else {}),
            **unit_value_need(spec.unit_value_kpi),
        },
    )


register(Method("ab_uplift", AbUpliftValue, value))
