"""The figures a scenario starts from, per model, each saying where it came from.

For a month (default: the latest month with billing data, `roi.warehouse.months`): the model's
cost split into the parts drivers act on (`COST_PARTS`), its value, interval and volume, its GPU
efficiency, its LLM tokens by way of serving, and the value of one metric point (0.01) a month:
measured (`kpi_sensitivity`, when the regression is usable) or declared (`[quality]
value_per_point`), with the source named. `recent_value` is the mean monthly value of the last
three months (an outage loses a typical month, not one lucky or unlucky month).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from roi import warehouse
from roi.attribution.pool_bases.gpu_hours import gpu_cost_sql
from roi.config import ModelConfig, ProjectConfig
from roi.errors import RoiError
from roi.vocabulary import SENTINELS
from roi.warehouse import Connection
from roi.warehouse.months import check_attributed, choose_month

# What a model's cost is made of, as drivers see it.
COST_PARTS = ("api", "gpu", "cpu", "training", "platform", "other")
# The mean Gregorian month, 365.25 / 12 = 30.4375 days: days of an outage or of a model's age
# in months.
DAYS_PER_MONTH = 365.25 / 12


class ScenarioError(RoiError):
    """A scenario's parameters or inputs are wrong (an unknown model, a bad level, ...)."""


def check_level(level: float, example: str = "0.95") -> None:
    """A VaR or interval level must lie strictly between 0 and 1."""
    if not 0 < level < 1:
        raise ScenarioError(f"--level {level} must be between 0 and 1 (e.g. {example})")


MAX_SEED = 2**32 - 1  # seeds are from 0 to this


def check_count(option: str, value: int, low: int, high: int) -> int:
    """A count parameter (draws, lags, months ahead) must lie from `low` to `high`.

    Raises:
        ScenarioError: naming the option, the value and the valid range.
    """
    if not low <= value <= high:
        raise ScenarioError(f"{option} {value} must be from {low:,} to {high:,}")
    return value


@dataclass(frozen=True)
class Baseline:
    """One model's figures for a month."""

    model_id: str
    name: str
    stage: str
    month: date
    currency: str
    costs: dict[str, float]  # COST_PARTS → amount
    value: float | None
    value_low: float | None
    value_high: float | None
    volume: float | None
    recent_value: float | None
    gpu_efficiency: float | None
    value_per_point: float | None
    value_per_point_source: str
    llm: dict[str, dict[str, float]] = field(default_factory=dict)  # serving → tokens, cost, api

    @property
    def cost(self) -> float:
        """The month's total cost."""
        return sum(self.costs.values())


def scenario_month(con: Connection, project: ProjectConfig, month: date | None) -> date:
    """The month a scenario starts from: `month` (within the data's months) or the latest month
    with billing data (`roi.warehouse.months`), which needs a P&L; else an error saying what to
    run first or which months to choose from."""
    if not warehouse.fetch_one(con, "SELECT count(*) FROM model_roi")[0]:
        raise ScenarioError(
            "the warehouse has no model P&L yet (model_roi is empty); run `roi run` (or "
            "`roi load` and `roi attribute`) first"
        )
    return check_attributed(con, choose_month(con, month, project.attribution.month_basis))


def model_config(project: ProjectConfig, model_id: str) -> ModelConfig:
    """The model definition, or an error listing the known model ids."""
    for model in project.models:
        if model.model_id == model_id:
            return model
    known = ", ".join(m.model_id for m in project.models)
    raise ScenarioError(f"unknown model {model_id!r}; known models: {known}")


def _costs(con: Connection, project: ProjectConfig, month: date) -> pl.DataFrame:
    gpu, gpu_params = gpu_cost_sql(project.pools)
    sentinels = ", ".join("?" for _ in SENTINELS)
    return warehouse.fetch_frame(
        con,
        f"""SELECT model_id,
                   CASE WHEN cost_type = 'inference_api' THEN 'api'
                        WHEN {gpu} THEN 'gpu'
                        WHEN cost_type = 'cpu_compute' THEN 'cpu'
                        WHEN cost_type = 'training' THEN 'training'
                        WHEN cost_type = 'platform_shared' THEN 'platform'
                        ELSE 'other' END AS part,
                   sum(amount)::DOUBLE AS amount
            FROM model_costs
            WHERE month = ? AND currency = ? AND model_id NOT IN ({sentinels})
            GROUP BY ALL""",
        [*gpu_params, month, project.project.currency, *SENTINELS],
    )


def baselines(
    con: Connection, project: ProjectConfig, month: date | None = None
) -> dict[str, Baseline]:
    """Every model's baseline for `month` (default: the latest month with billing data; a model
    with no P&L row that month starts from zero)."""
    month = scenario_month(con, project, month)
    costs = _costs(con, project, month)
    roi = {
        r["model_id"]: r
        for r in warehouse.fetch_frame(
            con, "SELECT * FROM model_roi WHERE month = ?", [month]
        ).iter_rows(named=True)
    }
    recent = dict(
        warehouse.fetch_all(
            con,
            """SELECT model_id, avg(value) FROM model_roi
               WHERE month BETWEEN ? - INTERVAL 2 MONTH AND ? AND value IS NOT NULL
               GROUP BY 1""",
            [month, month],
        )
    )
    sensitivity = {
        r["model_id"]: r
        for r in warehouse.fetch_frame(con, "SELECT * FROM kpi_sensitivity").iter_rows(named=True)
    }
    llm: dict[str, dict[str, dict[str, float]]] = {}
    for r in warehouse.fetch_frame(
        con, "SELECT * FROM llm_unit_costs WHERE month = ?", [month]
    ).iter_rows(named=True):
        llm.setdefault(r["model_id"], {})[r["serving"]] = {
            "tokens": float(r["tokens"]),
            "cost": float(r["cost"] or 0.0),
            "api_cost_same_mix": float(r["api_cost_same_mix"] or 0.0),
            "cost_per_1m_tokens": float(r["cost_per_1m_tokens"] or 0.0),
        }
    out: dict[str, Baseline] = {}
    for model in project.models:
        parts = {p: 0.0 for p in COST_PARTS}
        for r in costs.filter(pl.col("model_id") == model.model_id).iter_rows(named=True):
            parts[r["part"]] += r["amount"]
        row = roi.get(model.model_id, {})
        measured = sensitivity.get(model.model_id)
        if measured is not None and measured["measured"] and measured["value_per_point"]:
            per_point = float(measured["value_per_point"])
            source = (
                f"measured: {measured['kpi']} regressed on {measured['metric']} over "
                f"{measured['months']} months (kpi_sensitivity)"
            )
        elif model.quality.value_per_point is not None:
            per_point = model.quality.value_per_point
            source = "declared: [quality] value_per_point in " + model.file.name
        else:
            per_point, source = (
                None,
                "none: no usable KPI regression and no [quality] value_per_point",
            )
        out[model.model_id] = Baseline(
            model_id=model.model_id,
            name=model.name,
            stage=model.stage,
            month=month,
            currency=project.project.currency,
            costs=parts,
            value=row.get("value"),
            value_low=row.get("value_low"),
            value_high=row.get("value_high"),
            volume=row.get("volume"),
            recent_value=recent.get(model.model_id),
            gpu_efficiency=row.get("gpu_efficiency"),
            value_per_point=per_point,
            value_per_point_source=source,
            llm=llm.get(model.model_id, {}),
        )
    return out
