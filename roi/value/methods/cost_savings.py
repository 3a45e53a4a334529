"""`cost_savings`: what the work would cost without the model, minus what it costs with it.

baseline cost = volume × unit value (deflected tickets × cost per ticket, hours automated ×
hourly cost); minus the `actual_cost_kpi` series where given (the residual manual cost). The
baseline is declared, so it is graded per-unit with baseline; no sampling interval.
"""

from __future__ import annotations

import polars as pl

from roi.config.models import CostSavingsValue
from roi.value.inputs import ValueInputs
from roi.value.methods import finish
from roi.value.methods.common import load_ids, unit_values


def value(spec: CostSavingsValue, inputs: ValueInputs, currency: str) -> pl.DataFrame:
    """Monthly value rows of a cost-savings model."""
    frame = inputs.series(spec.volume_kpi, "value.volume_kpi").rename({"value": "volume"})
    if spec.actual_cost_kpi is not None:
        actual = inputs.series(spec.actual_cost_kpi, "value.actual_cost_kpi").rename(
            {"value": "actual", "load_ids": "actual_load_ids"}
        )
        frame = frame.join(actual, on="month", how="left")
    else:
        frame = frame.with_columns(
            actual=pl.lit(0.0), actual_load_ids=pl.lit(None, pl.List(pl.String))
        )
    units = unit_values(
        inputs, frame["month"].to_list(), spec.unit_value_kpi, spec.unit_value, currency
    )
    frame = frame.join(units, on="month", how="left")
    return finish(
        frame.with_columns(
            value=pl.col("volume") * pl.col("unit_value") - pl.col("actual").fill_null(0.0),
            value_low=pl.lit(None, pl.Float64),
            value_high=pl.lit(None, pl.Float64),
            interval_note=pl.lit("cost savings: no sampling interval"),
            unit=pl.lit(spec.unit or spec.volume_kpi),
            evidence=pl.lit("per_unit_baseline"),
            basis=pl.lit("baseline cost (volume × unit cost) minus actual"),
            load_ids=load_ids("load_ids", "actual_load_ids", "unit_load"),
        )
    )
