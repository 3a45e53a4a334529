"""`did`: difference-in-differences of a KPI between a treated and a comparison segment.

The KPI's monthly series for the `treated` and `control` segments, before and after `rollout`,
fit `y ~ treated * post` by OLS with heteroskedasticity-robust (HC1) errors (two segments are
too few clusters for cluster-robust errors); the `treated:post` coefficient is the effect per
month, with its interval at the declared level. Each month from the rollout on is valued at
effect × volume (if declared) × unit value. Graded a quasi-experiment.
"""

from __future__ import annotations

import polars as pl
import statsmodels.formula.api as smf

from roi.config.models import DidValue
from roi.errors import ConfigError
from roi.value.inputs import ValueInputs
from roi.value.methods import finish
from roi.value.methods.common import join_series, load_ids, with_unit_values


def value(spec: DidValue, inputs: ValueInputs, currency: str) -> pl.DataFrame:
    """Monthly value rows of a model rolled out to one segment, another kept as comparison."""
    treated = inputs.series(spec.kpi, "value.treated", spec.treated).with_columns(treated=1)
    control = inputs.series(spec.kpi, "value.control", spec.control).with_columns(treated=0)
    panel = pl.concat([treated, control]).with_columns(
        post=(pl.col("month") >= spec.rollout).cast(pl.Int64)
    )
    before = panel.filter(pl.col("post") == 0)["treated"].n_unique()
    after = panel.filter(pl.col("post") == 1)["treated"].n_unique()
    if before < 2 or after < 2:
        raise ConfigError(
            f"{inputs.file}: key 'value.rollout' = {spec.rollout}: difference-in-differences "
            "needs both segments' KPI before and after the rollout"
        )
    fit = smf.ols("value ~ treated * post", panel.to_pandas()).fit(cov_type="HC1")
    effect = float(fit.params["treated:post"])
    low, high = (float(v) for v in fit.conf_int(alpha=1 - spec.level).loc["treated:post"])
    months = treated.filter(pl.col("month") >= spec.rollout).select("month", "load_ids")
    control_ids = control.select("month", pl.col("load_ids").alias("control_load_ids"))
    frame = months.join(control_ids, on="month", how="left")
    frame = join_series(frame, inputs, spec.volume_kpi, "value.volume_kpi", "volume", pl.lit(1.0))
    frame = with_unit_values(frame, inputs, spec.unit_value_kpi, spec.unit_value, currency)
    scale = pl.col("volume") * pl.col("unit_value")
    return finish(
        frame.with_columns(
            value=effect * scale,
            value_low=pl.min_horizontal(low * scale, high * scale),
            value_high=pl.max_horizontal(low * scale, high * scale),
            interval_note=pl.lit(f"{spec.level:.0%} interval, OLS with HC1 errors"),
            unit=pl.lit(spec.unit or spec.volume_kpi or spec.kpi),
            evidence=pl.lit("quasi_experiment"),
            basis=pl.lit(
                f"difference-in-differences of {spec.kpi}: {spec.treated} vs {spec.control} "
                f"from {spec.rollout:%Y-%m}"
            ),
            load_ids=load_ids("load_ids", "control_load_ids", "volume_load_ids", "unit_load"),
        )
    )
