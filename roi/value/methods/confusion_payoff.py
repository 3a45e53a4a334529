"""`confusion_payoff`: confusion-matrix counts per month × a payoff per outcome.

value = TP·v_TP + FP·v_FP + FN·v_FN + TN·v_TN (NannyML's business value); payoffs are
declared (FP and FN usually negative), so the grade is per-unit with baseline; the volume is
the number of predictions counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from roi.value.inputs import ValueInputs
from roi.value.methods import Driven, Method, finish, register
from roi.value.methods.common import load_ids


@dataclass(frozen=True)
class ConfusionPayoffValue:
    """Confusion-matrix counts per month × a payoff per outcome (fraud, credit, triage)."""

    method: Literal["confusion_payoff"]
    tp_kpi: str
    fp_kpi: str
    fn_kpi: str
    tp_value: float
    fp_value: float
    fn_value: float
    tn_kpi: str | None = None
    tn_value: float = 0.0
    unit: str | None = None


def value(spec: ConfusionPayoffValue, inputs: ValueInputs, currency: str) -> pl.DataFrame:
    """Monthly value rows from confusion-matrix counts."""
    cells = [
        ("tp", spec.tp_kpi, spec.tp_value),
        ("fp", spec.fp_kpi, spec.fp_value),
        ("fn", spec.fn_kpi, spec.fn_value),
    ]
    if spec.tn_kpi is not None:
        cells.append(("tn", spec.tn_kpi, spec.tn_value))
    frame: pl.DataFrame | None = None
    for name, kpi, _ in cells:
        series = inputs.counts(kpi, f"value.{name}_kpi").rename(
            {"value": name, "load_ids": f"{name}_load_ids"}
        )
        frame = (
            series if frame is None else frame.join(series, on="month", how="full", coalesce=True)
        )
    assert frame is not None
    payoff = sum((pl.col(name) * pay for name, _, pay in cells), pl.lit(0.0))
    counted = sum((pl.col(name) for name, _, _ in cells), pl.lit(0.0))
    return finish(
        frame.with_columns(
            value=payoff,
            value_low=pl.lit(None, pl.Float64),
            value_high=pl.lit(None, pl.Float64),
            interval_note=pl.lit("confusion payoff: no sampling interval"),
            volume=counted,
            unit=pl.lit(spec.unit or "predictions"),
            currency=pl.lit(currency),
            evidence=pl.lit("per_unit_baseline"),
            basis=pl.lit("confusion-matrix counts × declared payoffs"),
            load_ids=load_ids(*(f"{name}_load_ids" for name, _, _ in cells)),
        ),
        {name: f"KPI {kpi}" for name, kpi, _ in cells},
    )


def _drives(spec: ConfusionPayoffValue) -> Driven:
    return Driven(spec.tp_kpi, None, None, spec.tp_value)


register(Method("confusion_payoff", ConfusionPayoffValue, value, _drives))
