"""The per-model P&L (`model_roi`): attributed cost against measured value, month by month.

For each model and month with cost or value, in the project currency:
- cost: everything `model_costs` charges it (direct, shared, amortized-as-billed, priced
  usage); value and its interval from `model_value`; net = value − cost; ROI = net / cost;
- p_negative: the probability the month's net is negative, from the value's interval (read as
  a normal distribution's central interval at its level; cost is exact); null without one;
- after a model's retirement (the months after its `retired` month) it earns nothing: a month
  that still has cost has no value (`model_value` says why: retired) and a net of −cost, a loss
  that counts in the cumulative net, the NPVs and the IRR;
- cumulative_net: the sum of known nets since the first month (months without a value are
  skipped, not counted as zero); payback_month: the first month the cumulative net is ≥ 0,
  once reached;
- npv: the nets to date discounted to the first month at the project's annual discount rate
  turned monthly ((1 + r)^(1/12) − 1), first month discounted — Excel's `NPV(rate, range)`,
  so the workbook can recompute it;
- npv_horizon and irr: the same over the `[finance] horizon_months` calendar months from the
  model's first month with data to `horizon_end`: the known nets of those months to date, then
  the mean net of the last three known months held flat for each later month up to
  `horizon_end` (never past the model's retirement month). irr is the monthly internal rate of
  return of those flows, annualised ((1 + m)^12 − 1), Excel's `IRR(range)` turned yearly; it is
  shown only where it means something, as finance tools do: flows that start negative (an
  investment), turn positive, and an IRR from −99% to 1,000% a year; else null, with the reason
  in irr_reason;
- unit_cost: cost per 1,000 units of the model's volume; gpu_efficiency: GPU-hours busy over
  GPU-hours held in the pools it shares; gpu_hours and cost_per_gpu_hour: the GPU-hours it held
  in GPU pools and what the pools charged it per hour; tokens and cost_per_1m_tokens: LLM tokens
  served (API and self-hosted) and their cost per 1M (`llm_unit_costs`).
"""

from __future__ import annotations

from datetime import date
from statistics import NormalDist

import polars as pl

from roi import tables, warehouse
from roi.attribution.pool_bases.gpu_hours import gpu_pool_rules
from roi.config import ProjectConfig
from roi.vocabulary import SENTINELS, add_months
from roi.warehouse import Connection

# The annual IRRs worth showing: from −99% to 1,000% a year. Outside it the flows are too short
# or too lopsided for a rate to mean anything (e.g. 69,234% on a pilot with no up-front cost).
IRR_RANGE = (-0.99, 10.0)


def monthly_rate(annual: float) -> float:
    """The monthly rate equivalent to an annual discount rate."""
    return float((1.0 + annual) ** (1.0 / 12.0) - 1.0)


def excel_npv(rate: float, values: list[float]) -> float:
    """Excel's `NPV(rate, values)`: the first value is discounted one period."""
    return sum(v / (1.0 + rate) ** (t + 1) for t, v in enumerate(values))


def irr(values: list[float]) -> float | None:
    """The per-period internal rate of return (numpy-financial's and Excel's `IRR`), or None
    where no real rate above −100% makes the flows' NPV zero (they never change sign)."""
    import numpy as np

    if not values or min(values) >= 0 or max(values) <= 0:
        return None
    roots = np.roots(values[::-1])  # sum v_t x^t = 0 with x = 1 / (1 + r)
    real = roots.real[(np.abs(roots.imag) < 1e-12) & (roots.real > 0)]
    if not real.size:
        return None
    rates = 1.0 / real - 1.0
    return float(rates[np.argmin(np.abs(rates))])


def months_between(start: date, end: date) -> int:
    """Whole months from `start`'s month to `end`'s (negative when `end` is earlier)."""
    return (end.year - start.year) * 12 + end.month - start.month


def horizon_flows(
    known: list[tuple[date, float]], month: date, end: date, until: date | None = None
) -> list[float]:
    """The flows over a horizon ending in `end`, as seen in `month`: the known (month, net)
    pairs up to then, then the last three known nets' mean for each month after `month` up to
    `end` (and not past `until`, the retirement month)."""
    past = [net for m, net in known if m <= min(month, end)]
    if not past:
        return []
    last = min(end, until) if until is not None else end
    recent = [net for m, net in known if m <= month][-3:]
    tail = sum(recent) / len(recent)
    return past + [tail] * max(months_between(month, last), 0)


def annual_irr(flows: list[float]) -> tuple[float | None, str | None]:
    """(the annualised IRR of monthly flows, None) where it means something, else (None, the
    reason): the flows must start negative, turn positive and give a rate within IRR_RANGE."""
    if not flows:
        return None, "n/a: no known net in the horizon yet"
    if flows[0] >= 0:
        return None, "n/a: the flows do not start negative (no investment to return)"
    if max(flows) <= 0:
        return None, "n/a: the flows never turn positive (nothing returned)"
    monthly = irr(flows)
    if monthly is None:
        return None, "n/a: no rate makes the flows' NPV zero"
    annual = (1.0 + monthly) ** 12 - 1.0
    low, high = IRR_RANGE
    if not low <= annual <= high:
        shown = f"{annual:,.0%} a year is outside {low:.0%} to {high:,.0%}".replace("-", "−")
        return None, f"n/a: {shown}"
    return annual, None


def _costs(con: Connection, currency: str) -> pl.DataFrame:
    marks = ", ".join("?" for _ in SENTINELS)
    return warehouse.fetch_frame(
        con,
        f"""SELECT month, model_id, sum(amount)::DOUBLE AS cost
            FROM model_costs WHERE currency = ? AND model_id NOT IN ({marks})
            GROUP BY ALL""",
        [currency, *SENTINELS],
    )


def _gpu_efficiency(con: Connection, project: ProjectConfig) -> pl.DataFrame:
    """Per month and model in GPU pools: busy over held GPU-hours, the held GPU-hours and
    what the pools charged (for the cost per GPU-hour)."""
    gpu_pools = gpu_pool_rules(project.pools)
    if not gpu_pools:
        return pl.DataFrame(
            schema={
                "month": pl.Date, "model_id": pl.String, "gpu": pl.Float64,
                "gpu_hours": pl.Float64, "gpu_pool_cost": pl.Float64,
            }
        )  # fmt: skip
    marks = ", ".join("?" for _ in gpu_pools)
    return warehouse.fetch_frame(
        con,
        f"""WITH held AS (
                SELECT month, model_id, sum(usage_quantity) / nullif(sum(quantity), 0) AS gpu,
                       sum(quantity) AS gpu_hours
                FROM allocation_bases WHERE rule_id IN ({marks}) GROUP BY ALL),
            charged AS (
                SELECT month, model_id, sum(amount)::DOUBLE AS gpu_pool_cost
                FROM allocated_costs WHERE rule_id IN ({marks}) AND currency = ? GROUP BY ALL)
            SELECT * FROM held LEFT JOIN charged USING (month, model_id)""",
        [*gpu_pools, *gpu_pools, project.project.currency],
    )


def _tokens(llm: pl.DataFrame) -> pl.DataFrame:
    """Per month and model: tokens served (API and self-hosted) and what they cost."""
    return llm.group_by("month", "model_id").agg(
        pl.col("tokens").sum().cast(pl.Float64).alias("tokens"),
        pl.col("cost").sum().alias("llm_cost"),
    )


def _running(
    rows: list[dict[str, object]], rate: float, horizon: int, retired: date | None
) -> None:
    """Cumulative net, payback month, NPV and IRR, in place, over one model's months."""
    cumulative = 0.0
    known: list[tuple[date, float]] = []
    payback: date | None = None
    if not rows:
        return
    first = rows[0]["month"]
    assert isinstance(first, date)
    end = add_months(first, horizon - 1)
    until = retired.replace(day=1) if retired else None
    for row in rows:
        net = row["net"]
        month = row["month"]
        assert isinstance(month, date)
        if isinstance(net, float):
            cumulative += net
            known.append((month, net))
            if payback is None and cumulative >= 0:
                payback = month
        row["cumulative_net"] = cumulative if known else None
        row["payback_month"] = payback
        row["npv"] = excel_npv(rate, [n for _, n in known]) if known else None
        flows = horizon_flows(known, month, end, until)
        row["npv_horizon"] = excel_npv(rate, flows) if flows else None
        row["irr"], row["irr_reason"] = annual_irr(flows)
        row["horizon_end"] = end


def _retirements(project: ProjectConfig) -> pl.DataFrame:
    """Per retired model, `ended`: the first month after its retirement month."""
    rows = [
        {"model_id": m.model_id, "ended": add_months(m.retired.replace(day=1), 1)}
        for m in project.models
        if m.retired is not None
    ]
    return pl.DataFrame(rows, schema={"model_id": pl.String, "ended": pl.Date})


def model_roi(
    con: Connection,
    project: ProjectConfig,
    value: pl.DataFrame,
    llm: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`model_roi` rows from attributed cost, the `model_value` rows given and (for the cost
    per 1M tokens) the `llm_unit_costs` rows."""
    currency = project.project.currency
    schema = tables.MODEL_ROI.polars_schema()
    costs = _costs(con, currency)
    valued = value.filter(pl.col("currency") == currency).select(
        "month", "model_id", "value", "value_low", "value_high", "interval_level", "volume",
        "unit", "evidence", pl.col("reason").alias("value_reason"),
    )  # fmt: skip
    frame = costs.join(valued, on=["month", "model_id"], how="full", coalesce=True)
    frame = frame.join(_gpu_efficiency(con, project), on=["month", "model_id"], how="left")
    tokens = _tokens(llm if llm is not None else tables.LLM_UNIT_COSTS.empty())
    frame = frame.join(tokens, on=["month", "model_id"], how="left")
    if not frame.height:
        return pl.DataFrame(schema=schema)
    z = pl.col("interval_level").map_elements(
        lambda level: NormalDist().inv_cdf((1 + level) / 2), return_dtype=pl.Float64
    )
    sd = (pl.col("value_high") - pl.col("value_low")) / (2 * z)
    frame = frame.join(_retirements(project), on="model_id", how="left")
    # After its retirement a model earns nothing: what it still costs is a loss, not unknown.
    net = (
        pl.when(pl.col("value").is_null() & (pl.col("month") >= pl.col("ended")).fill_null(False))
        .then(-pl.col("cost"))
        .otherwise(pl.col("value") - pl.col("cost"))
    )
    frame = frame.with_columns(pl.col("cost").fill_null(0.0)).with_columns(net=net)
    frame = frame.with_columns(
        roi=pl.when(pl.col("cost") > 0).then(pl.col("net") / pl.col("cost")),
        p_negative=pl.when(sd > 0).then(
            ((pl.col("cost") - pl.col("value")) / sd).map_elements(
                lambda x: NormalDist().cdf(x), return_dtype=pl.Float64
            )
        ),
        unit_cost=pl.when(pl.col("volume") > 0).then(1000 * pl.col("cost") / pl.col("volume")),
        unit=pl.when(pl.col("unit").is_not_null()).then(pl.lit("1k ") + pl.col("unit")),
        gpu_efficiency=pl.col("gpu"),
        cost_per_gpu_hour=pl.when(pl.col("gpu_hours") > 0).then(
            pl.col("gpu_pool_cost") / pl.col("gpu_hours")
        ),
        cost_per_1m_tokens=pl.when(pl.col("tokens") > 0).then(
            1e6 * pl.col("llm_cost") / pl.col("tokens")
        ),
        currency=pl.lit(currency),
    )
    rate = monthly_rate(project.finance.discount_rate)
    retired = {m.model_id: m.retired for m in project.models}
    out: list[dict[str, object]] = []
    for (model_id,), part in frame.sort("model_id", "month").group_by(
        "model_id", maintain_order=True
    ):
        rows = part.to_dicts()
        _running(rows, rate, project.finance.horizon_months, retired.get(str(model_id)))
        out.extend(rows)
    return pl.DataFrame(out, infer_schema_length=None).select(list(schema)).cast(schema)  # type: ignore[arg-type]
