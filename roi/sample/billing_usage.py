"""Usage lines of the sample's metered resources: one FOCUS line per resource and day.

A meter's daily quantity follows its load pattern and noise; lines under the savings plan or
the Azure reservation are priced at the commitment's rate and marked as used commitment.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import polars as pl

from roi.sample.meters import (
    NODE2_DOWN,
    RESERVATION_END,
    RESERVATION_ID,
    RESERVATION_START,
    RESERVATION_UPFRONT,
    SAVINGS_PLAN_ARN,
    SAVINGS_PLAN_RATE,
    Meter,
)
from roi.sample.portfolio import FIRST_MONTH, LAST_MONTH, MODELS_BY_ID, next_month


def days_between(first: date, last_exclusive: date) -> list[date]:
    """Every day from `first` up to, not including, `last_exclusive`."""
    return [first + timedelta(days=i) for i in range((last_exclusive - first).days)]


def _active_window(meter: Meter) -> tuple[date, date]:
    start, end = meter.start, meter.end
    if meter.model:
        model = MODELS_BY_ID[meter.model]
        start = max(start, model.launched)
        if model.retired:
            end = min(end, model.retired + timedelta(days=1))
    return max(start, FIRST_MONTH), min(end, next_month(LAST_MONTH))


def _quantities(meter: Meter, days: list[date], rng: np.random.Generator) -> np.ndarray:
    weekday = np.array([d.weekday() for d in days])
    n = len(days)
    base = np.full(n, meter.quantity)
    if meter.pattern == "weekday":
        base = np.where(weekday < 5, base, base * 0.2)
    elif meter.pattern == "business_hours":
        base = np.where(weekday < 5, base, 0.0)
    elif meter.pattern == "training":
        base = np.where(weekday == 6, base, 0.0)
    elif meter.pattern == "growth":
        base = base * np.linspace(1.0, 1.6, n)
    if meter.noise:
        base = base * rng.lognormal(0.0, meter.noise, n)
    if meter.key == "eks-node-2":
        down = np.array([any(a <= d <= b for a, b in NODE2_DOWN) for d in days])
        base = np.where(down, 0.0, base)
    return np.round(base, 6)


def _tags(meter: Meter, rng: np.random.Generator, n: int) -> list[str | None]:
    text = json.dumps(meter.tags, separators=(",", ":")) if meter.tags else None
    if not meter.tag_dropout:
        return [text] * n
    keep = rng.random(n) >= meter.tag_dropout
    return [text if k else None for k in keep]


def _sku_details(meter: Meter) -> str | None:
    details: dict[str, object] = {}
    if meter.instance_type:
        details["InstanceType"] = meter.instance_type
    if meter.cores:
        details["CoreCount"] = meter.cores
    if meter.memory_gb:
        details["MemorySize"] = meter.memory_gb
    if meter.gpu_count:
        details["GpuCount"] = meter.gpu_count
    if meter.instance_type and meter.category == "Compute":
        details["OperatingSystem"] = "Linux"
    return json.dumps(details, separators=(",", ":")) if details else None


def meter_lines(meter: Meter, rng: np.random.Generator) -> pl.DataFrame:
    """The meter's daily usage lines over its active window (empty if it never ran)."""
    start, end = _active_window(meter)
    days = days_between(start, end) if start < end else []
    if not days:
        return pl.DataFrame()
    qty = _quantities(meter, days, rng)
    frame = pl.DataFrame(
        {
            "day": days,
            "quantity": qty,
            "tags": _tags(meter, rng, len(days)),
        },
        schema={"day": pl.Date, "quantity": pl.Float64, "tags": pl.String},
    ).filter(pl.col("quantity") > 0)
    list_cost = pl.col("quantity") * meter.price
    on_sp = meter.commitment == "savings_plan"
    in_ri = (
        (pl.col("day") >= RESERVATION_START) & (pl.col("day") <= RESERVATION_END)
        if meter.commitment == "reservation"
        else pl.lit(False)
    )
    daily_ri = RESERVATION_UPFRONT / 365 / 24
    effective = (
        list_cost * SAVINGS_PLAN_RATE
        if on_sp
        else pl.when(in_ri).then(pl.col("quantity") * daily_ri).otherwise(list_cost)
    )
    committed = pl.lit(True) if on_sp else in_ri
    return frame.with_columns(
        key=pl.lit(meter.key),
        provider=pl.lit(meter.provider),
        sub_account=pl.lit(meter.sub_account),
        charge_category=pl.lit("Usage"),
        charge_class=pl.lit(None, pl.String),
        charge_frequency=pl.lit("Usage-Based"),
        period_start=pl.col("day"),
        period_end=pl.col("day") + pl.duration(days=1),
        service=pl.lit(meter.service),
        category=pl.lit(meter.category),
        subcategory=pl.lit(meter.subcategory),
        resource_id=pl.lit(meter.resource_id, pl.String),
        resource_name=pl.lit(meter.resource_name, pl.String),
        resource_type=pl.lit(meter.resource_type, pl.String),
        sku_id=pl.lit(meter.sku_id),
        sku_meter=pl.lit(meter.sku_meter),
        description=pl.lit(meter.description),
        unit=pl.lit(meter.unit),
        list_price=pl.lit(meter.price),
        list_cost=list_cost,
        billed=pl.when(committed).then(0.0).otherwise(list_cost),
        effective=effective,
        pricing_category=pl.when(committed).then(pl.lit("Committed")).otherwise(pl.lit("Standard")),
        commitment_id=pl.when(committed)
        .then(pl.lit(SAVINGS_PLAN_ARN if on_sp else RESERVATION_ID))
        .otherwise(None),
        commitment_status=pl.when(committed).then(pl.lit("Used")).otherwise(None),
        sku_details=pl.lit(_sku_details(meter), pl.String),
        region=pl.lit(meter.region),
        service_code=pl.lit(meter.service_code, pl.String),
        operation=pl.lit(meter.operation, pl.String),
        resource_group=pl.lit(meter.resource_group, pl.String),
        meter_category=pl.lit(meter.meter_category, pl.String),
    )
