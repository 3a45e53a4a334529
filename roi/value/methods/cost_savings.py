"""`cost_savings`: what the work would cost without the model, minus what it costs with it.

baseline cost = volume × unit value (deflected tickets × cost per ticket, hours automated ×
hourly cost); minus the `actual_cost_kpi` series where given (the residual manual cost). The
baseline is declared, so it is graded per-unit with baseline; no sampling interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from roi.value.inputs import ValueInputs
from roi.value.methods import Driven, Method, finish, register
from roi.value.methods.common import (
    UNIT_VALUE,
    join_series,
    load_ids,
    unit_value_need,
    with_unit_values,
)


@dataclass(frozen=True)
class CostSavingsValue:
    """Baseline cost minus actual (automation, deflected tickets × cost per ticket)."""

    method: Literal["cost_savings"]
    volume_kpi: str
    unit_value_kpi: str | None = None
    unit_value: float | None = field(default=None, metadata=UNIT_VALUE)
    actual_cost_kpi: str | None = None
    unit: str | None = None


def value(spec: CostSavingsValue, inputs: ValueInputs, currency: str) -> pl.DataFrame:
    """Monthly value rows of a cost-savings model."""
    frame = inputs.counts(spec.volume_kpi, "value.volume_kpi").rename({"value": "volume"})
    frame = join_series(
        frame, inputs, spec.actual_cost_kpi, "value.actual_cost_kpi", "actual", pl.lit(0.0)
    )
    frame = with_unit_values(frame, inputs, spec.unit_value_kpi, spec.unit_value, currency)
    return finish(
        frame.with_columns(
            value=pl.col("volume") * pl.col("unit_value") - pl.col("actual"),
            value_low=pl.lit(None, pl.Float64),
            value_high=pl.lit(None, pl.Float64),
            interval_note=pl.lit("cost savings: no sampling interval"),
            unit=pl.lit(spec.unit or spec.volume_kpi),
            evidence=pl.lit("per_unit_baseline"),
            basis=pl.lit("baseline cost (volume × unit cost) minus actual"),
            load_ids=load_ids("load_ids", "actual_load_ids", "unit_load"),
        ),
        {
            "volume": f"KPI {spec.volume_kpi}",
            **({"actual": f"KPI {spec.actual_cost_kpi}"} if spec.actual_cost_kpi else {}),
            **unit_value_need(spec.unit_value_kpi),
        },
    )


def _drives(spec: CostSavingsValue) -> Driven:
    return Driven(spec.volume_kpi, None, spec.unit_value_kpi, spec.unit_value)


register(Method("cost_savings", CostSavingsValue, value, _drives))
