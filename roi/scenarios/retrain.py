"""Retraining cadence: the yearly cost of decay plus retraining, per policy, and the best one.

A model's metric falls by d a month after each retraining (its measured decay, else the declared
one: `roi.scenarios.decay`), and each 0.01 of metric is worth v a month (measured or declared
value per point). Retraining every T months, the value given up to decay averages
v × 100 × d × T / 2 a month, and retraining costs C a run: per year

    decay loss = 12 × v × 100 × d × T / 2,   retraining = 12 / T × C

A trigger policy (retrain when the metric has dropped Δ points, checked weekly) retrains every
Δ / 100 / d months plus the week it takes to notice. The decay is drawn from its interval
(normal, truncated at zero) so each policy's expected cost carries the uncertainty of the
estimate; the best policy is the cheapest in expectation. C is the declared
`[quality] retraining_cost`, else the model's attributed training cost over the last twelve
months divided by its retrainings (model versions) in that time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from statistics import NormalDist

import numpy as np
import polars as pl

from roi import warehouse
from roi.config import ModelConfig
from roi.context import Context
from roi.scenarios import Scenario, register
from roi.scenarios.baseline import (
    MAX_SEED,
    Baseline,
    ScenarioError,
    baselines,
    check_count,
    check_level,
    model_config,
)
from roi.scenarios.decay import Decay, decay
from roi.scenarios.runs import Computed, ScenarioRun, fingerprint, run
from roi.warehouse import Connection

WEEKS = (2, 4, 6, 8, 13, 17, 26, 39, 52)
TRIGGERS = (0.5, 1.0, 2.0, 3.0, 5.0)  # metric points (0.01)
WEEKS_PER_MONTH = 52 / 12


def retraining_cost(con: Connection, model: ModelConfig, month: date) -> tuple[float | None, str]:
    """The cost of one retraining and where it came from."""
    if model.quality.retraining_cost is not None:
        return (
            model.quality.retraining_cost,
            f"declared: [quality] retraining_cost in {model.file.name}",
        )
    spent = warehouse.fetch_one(
        con,
        """SELECT sum(amount)::DOUBLE FROM model_costs WHERE model_id = ?
           AND cost_type = 'training' AND month > ? - INTERVAL 12 MONTH AND month <= ?""",
        [model.model_id, month, month],
    )[0]
    runs = warehouse.fetch_one(
        con,
        """SELECT count(DISTINCT model_version) FROM model_metrics WHERE model_id = ?
           AND ts > ? - INTERVAL 12 MONTH AND ts < ? + INTERVAL 1 MONTH""",
        [model.model_id, month, month],
    )[0]
    if spent and runs:
        return float(spent) / int(runs), (
            f"attributed training cost of the last 12 months over {runs} retraining(s)"
        )
    return None, "none: no [quality] retraining_cost and no attributed training cost"


def _yearly(
    per_point: float, decays: np.ndarray, months: float, cost: float
) -> tuple[float, float]:
    loss = float(np.mean(12 * per_point * 100 * decays * months / 2))
    return loss, 12 / months * cost


def _decay_draws(measured: Decay, draws: int, seed: int, level: float) -> np.ndarray:
    """Monthly decay draws: from the measured interval, or the declared figure throughout."""
    assert measured.used is not None  # the caller checked
    rng = np.random.default_rng(seed)
    if measured.source == "measured" and measured.low is not None and measured.high is not None:
        spread = (measured.high - measured.low) / (2 * NormalDist().inv_cdf((1 + level) / 2))
        decays = np.clip(rng.normal(measured.used, spread, draws), 0.0, None)
    else:
        decays = np.full(draws, measured.used)
    return decays


def _policy_rows(
    per_point: float, decays: np.ndarray, cost: float, current: int | None
) -> list[dict[str, object]]:
    """Expected yearly decay loss and retraining cost of each cadence, trigger and today's."""
    policies: list[tuple[str, float]] = [(f"every {w} weeks", w / WEEKS_PER_MONTH) for w in WEEKS]
    rows = []
    for name, months in policies:
        loss, retraining = _yearly(per_point, decays, months, cost)
        rows.append(
            {
                "policy": name,
                "months_between": months,
                "decay_loss": loss,
                "retraining_cost": retraining,
            }
        )
    for points in TRIGGERS:
        months_each = (
            np.clip(points / 100 / np.maximum(decays, 1e-12), 0, 1200) + 1 / WEEKS_PER_MONTH
        )
        loss = float(np.mean(12 * per_point * 100 * decays * months_each / 2))
        retraining = float(np.mean(12 / months_each * cost))
        rows.append(
            {
                "policy": f"when {points:g} point(s) down",
                "months_between": float(np.mean(months_each)),
                "decay_loss": loss,
                "retraining_cost": retraining,
            }
        )
    if current is not None:
        loss, retraining = _yearly(per_point, decays, float(current), cost)
        rows.append(
            {
                "policy": f"today: every {current} month(s)",
                "months_between": float(current),
                "decay_loss": loss,
                "retraining_cost": retraining,
            }
        )
    return rows


def retrain(
    con: Connection,
    model: ModelConfig,
    base: Baseline,
    measured: Decay,
    draws: int,
    seed: int,
    level: float,
) -> dict[str, object]:
    """Every policy's expected yearly decay loss, retraining cost and total; the best and
    its margin over the model's current cadence."""
    if measured.used is None:
        raise ScenarioError(
            f"{model.model_id}: no decay to work with: its metric history gives none and "
            f"{model.file.name} declares no [quality] decay_per_month"
        )
    if base.value_per_point is None:
        raise ScenarioError(
            f"{model.model_id}: no value per metric point: declare [quality] value_per_point "
            f"in {model.file.name} (value a month of 0.01 of {model.quality.metric})"
        )
    cost, cost_source = retraining_cost(con, model, base.month)
    if cost is None:
        raise ScenarioError(
            f"{model.model_id}: no retraining cost: declare [quality] retraining_cost in "
            f"{model.file.name}"
        )
    decays = _decay_draws(measured, draws, seed, level)
    rows = _policy_rows(base.value_per_point, decays, cost, model.quality.retrain_every_months)
    current = model.quality.retrain_every_months
    table = pl.DataFrame(rows).with_columns(
        yearly_cost=pl.col("decay_loss") + pl.col("retraining_cost")
    )
    best = (
        table.filter(~pl.col("policy").str.starts_with("today"))
        .sort("yearly_cost")
        .row(0, named=True)
    )
    today = table.filter(pl.col("policy").str.starts_with("today"))
    margin = None if not today.height else float(today["yearly_cost"][0]) - best["yearly_cost"]
    optimum = float(np.sqrt(2 * cost / (base.value_per_point * 100 * max(measured.used, 1e-12))))
    table = table.with_columns(
        net_vs_today=(float(today["yearly_cost"][0]) - pl.col("yearly_cost"))
        if today.height
        else None
    ).sort("yearly_cost")
    return {
        "model_id": model.model_id,
        "currency": base.currency,
        "decay_per_month": measured.used,
        "decay_source": measured.source,
        "value_per_point": base.value_per_point,
        "value_per_point_source": base.value_per_point_source,
        "retraining_cost": cost,
        "retraining_cost_source": cost_source,
        "best_policy": best["policy"],
        "best_yearly_cost": best["yearly_cost"],
        "margin_over_today": margin,
        "optimal_months_between": optimum,
        "policies": table.to_dicts(),
        "notes": [
            f"best: {best['policy']}, {best['yearly_cost']:,.0f} {base.currency} a year"
            + (
                f", {margin:,.0f} a year less than today (every {current} month(s))"
                if margin is not None
                else ""
            )
            + f"; decay {measured.used:.4f} a month ({measured.source}), retraining "
            f"{cost:,.0f} a run ({cost_source})"
        ],
    }


@dataclass(frozen=True)
class RetrainOptions:
    """`roi scenario retrain`: a model, draws of its decay, seed and level."""

    model: str
    draws: int = 10_000
    seed: int = 0
    level: float = 0.9


def run_retrain(ctx: Context, options: RetrainOptions) -> ScenarioRun:
    """Yearly cost of decay plus retraining per policy; the best and its margin over today."""
    model, draws, seed, level = options.model, options.draws, options.seed, options.level
    config = model_config(ctx.project, model)
    check_level(level, "0.9")
    check_count("--draws", draws, 100, 10_000_000)
    check_count("--seed", seed, 0, MAX_SEED)

    def compute(con: Connection) -> Computed:
        base = baselines(con, ctx.project)
        measured = decay(con, config, level)
        outputs = retrain(con, config, base[model], measured, draws, seed, level)
        table = pl.DataFrame(outputs["policies"]).with_columns(  # type: ignore[arg-type]
            currency=pl.lit(ctx.project.project.currency)
        )
        inputs = {
            "model": model,
            "draws": draws,
            "level": level,
            "decay": asdict(measured),
            **fingerprint(con, base),
        }
        return Computed(inputs, outputs, table)

    return run(ctx, f"retrain {model}", seed, compute)


register(Scenario("retrain", RetrainOptions, run_retrain))
