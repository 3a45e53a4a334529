"""`per_unit`: outcomes × unit value, against a declared baseline (what happens without it).

outcome = the `kpi` series (else the volume itself); counterfactual = 0 with no baseline
("gross, no counterfactual", graded an assumption), `baseline` × volume for a rate, or the
baseline KPI's series for a KPI name; value = (outcome − counterfactual) × unit value. A
per-unit value has no sampling interval: the bounds are null and say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from roi.value.inputs import ValueInputs
from roi.value.methods import Driven, Method, finish, register
from roi.value.methods.common import (
    UNIT_VALUE,
    load_ids,
    unit_value_need,
    with_unit_values,
)


@dataclass(frozen=True)
class PerUnitValue:
    """Volume KPI × unit value, against a declared baseline (what happens without the model)."""

    method: Literal["per_unit"]
    volume_kpi: str
    kpi: str | None = None
    unit_value_kpi: str | None = None
    unit_value: float | None = field(default=None, metadata=UNIT_VALUE)
    baseline: float | str | None = None  # a rate or a KPI name; none: gross, no counterfactual
    unit: str | None = None


def value(spec: PerUnitValue, inputs: ValueInputs, currency: str) -> pl.DataFrame:
    """Monthly value rows of a per-unit model."""
    volume = inputs.counts(spec.volume_kpi, "value.volume_kpi").rename(
        {"value": "volume", "load_ids": "volume_load_ids"}
    )
    if spec.kpi is not None:
        outcome = inputs.series(spec.kpi, "value.kpi").rename({"value": "outcome"})
        frame = outcome.join(volume, on="month", how="left")
    else:
        frame = volume.with_columns(outcome=pl.col("volume"), load_ids=pl.col("volume_load_ids"))
    if spec.baseline is None:
        counterfactual = pl.lit(0.0)
        evidence, basis = "assumption", "gross, no counterfactual"
        frame = frame.with_columns(baseline_load_ids=pl.lit(None, pl.List(pl.String)))
    elif isinstance(spec.baseline, str):
        base = inputs.series(spec.baseline, "value.baseline").rename(
            {"value": "counterfactual", "load_ids": "baseline_load_ids"}
        )
        frame = frame.join(base, on="month", how="left")
        counterfactual = pl.col("counterfactual")
        evidence, basis = "per_unit_baseline", f"against baseline KPI {spec.baseline}"
    else:
        counterfactual = pl.col("volume") * spec.baseline
        evidence = "per_unit_baseline"
        basis = f"against a baseline of {spec.baseline:g} per {spec.volume_kpi}"
        frame = frame.with_columns(baseline_load_ids=pl.lit(None, pl.List(pl.String)))
    frame = with_unit_values(frame, inputs, spec.unit_value_kpi, spec.unit_value, currency)
    needs = {"outcome": f"KPI {spec.kpi or spec.volume_kpi}", "volume": f"KPI {spec.volume_kpi}"}
    if isinstance(spec.baseline, str):
        needs["counterfactual"] = f"baseline KPI {spec.baseline}"
        counterfactual = pl.col("counterfactual")
    needs |= unit_value_need(spec.unit_value_kpi)
    return finish(
        frame.with_columns(
            value=(pl.col("outcome") - counterfactual) * pl.col("unit_value"),
            value_low=pl.lit(None, pl.Float64),
            value_high=pl.lit(None, pl.Float64),
            interval_note=pl.lit("per-unit value: no sampling interval"),
            unit=pl.lit(spec.unit or spec.volume_kpi),
            evidence=pl.lit(evidence),
            basis=pl.lit(basis),
            load_ids=load_ids("load_ids", "volume_load_ids", "baseline_load_ids", "unit_load"),
        ),
        needs,
    )


def _drives(spec: PerUnitValue) -> Driven:
    return Driven(
        spec.kpi or spec.volume_kpi,
        spec.volume_kpi if spec.kpi else None,
        spec.unit_value_kpi,
        spec.unit_value,
    )


register(Method("per_unit", PerUnitValue, value, _drives))
