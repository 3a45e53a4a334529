"""The actions of the "What to do" section, each found by the scenario engine with the money
it moves a month and the `roi` command that reproduces it.

- LLM serving: a self-hosted model switched to its reference API (`use_api`), or an API model
  served on its own GPUs at its self-hosted cost per 1M tokens (`self_host`), where that
  lowers the portfolio's cost (`roi scenario whatif`);
- retirement: a model whose retirement raises the portfolio's net (a negative ROI, or a
  retired model still costing), after its platform share moves to the others and its GPUs
  stay as idle capacity (`whatif --set retire=`);
- retraining cadence: the cheapest policy of `roi scenario retrain` against today's, a year's
  margin over twelve;
- idle capacity: what no workload held in a pool this month (`allocated_costs`, `__idle__`);
- tagging: the largest unallocated resources, money to place rather than to save.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from roi import warehouse
from roi.errors import RoiError
from roi.reporting.data import ReportData
from roi.reporting.numbers import ratio
from roi.scenarios.baseline import Baseline, baselines
from roi.vocabulary import IDLE

TOP_PER_KIND = 3
TOP_ACTIONS = 8
TOP_RESOURCES = 3


@dataclass(frozen=True)
class Action:
    """One thing to do: what, the money it moves a month, and the command that shows it."""

    kind: str  # llm, retire, retrain, idle, tag
    what: str
    amount: float  # a month, in the report currency
    effect: str  # "saves" (net up by that much) or "places" (unallocated cost to allocate)
    command: str


def _month(data: ReportData) -> str:
    return f"{data.month:%Y-%m}"


def _whatif(data: ReportData, base: dict[str, Baseline], driver: str, model: str) -> Action | None:
    """A model driver of `roi scenario whatif` and what it does to the portfolio's net."""
    from roi.scenarios.whatif import apply, compare

    frame = compare(base, apply(base, [(driver, None, model)]))
    total = frame.filter(pl.col("model_id") == "PORTFOLIO").row(0, named=True)
    row = frame.filter(pl.col("model_id") == model).row(0, named=True)
    gain = total["net_change"] if total["net_change"] is not None else -total["cost_change"]
    if gain is None or round(gain, 2) <= 0:
        return None
    name = data.label(model)
    before, after = row["roi"], row["scenario_roi"]
    change = f" (ROI {ratio(before)} → {ratio(after)})" if before is not None else ""
    what = {
        "use_api": f"Serve {name} from its reference API instead of self-hosting{change}",
        "self_host": f"Serve {name} on its own GPUs instead of the API{change}",
        "retire": f"Retire {name}{change}",
    }[driver]
    command = f"roi scenario whatif --set {driver}={model} --month {_month(data)}"
    kind = "retire" if driver == "retire" else "llm"
    return Action(kind, what, float(gain), "saves", command)


def _llm(data: ReportData, base: dict[str, Baseline]) -> list[Action]:
    found = []
    for model, b in base.items():
        if b.stage == "retired" or model not in data.model_ids:
            continue
        own, api = b.llm.get("self_hosted"), b.llm.get("api")
        if own is not None and own.get("api_cost_same_mix"):
            found.append(_whatif(data, base, "use_api", model))
        if api is not None and own is not None:
            found.append(_whatif(data, base, "self_host", model))
    return [a for a in found if a is not None]


def _retire(data: ReportData, base: dict[str, Baseline]) -> list[Action]:
    found = []
    for model, b in base.items():
        losing = b.value is not None and b.value < b.cost
        idle_cost = b.stage == "retired" and b.cost > 0
        if model in data.model_ids and (losing or idle_cost):
            found.append(_whatif(data, base, "retire", model))
    return [a for a in found if a is not None]


def _retrain(data: ReportData, base: dict[str, Baseline]) -> list[Action]:
    from roi.scenarios.decay import decay, stored_decays
    from roi.scenarios.retrain import retrain

    # The monthly job's decay run, when current: measuring again costs a statsmodels fit.
    stored = stored_decays(data.con, data.project) or {}
    found = []
    for model in data.project.models:
        shown = model.model_id in base and model.model_id in data.model_ids
        if model.stage == "retired" or model.quality.metric is None or not shown:
            continue
        try:
            measured = stored.get(model.model_id) or decay(data.con, model, 0.9)
            out = retrain(data.con, model, base[model.model_id], measured, 10_000, 0, 0.9)
        except RoiError:
            continue
        margin = out["margin_over_today"]
        if not isinstance(margin, float) or round(margin / 12, 2) <= 0:
            continue
        found.append(
            Action(
                "retrain",
                f"Retrain {data.label(model.model_id)} {out['best_policy']} instead of every "
                f"{model.quality.retrain_every_months} month(s)",
                margin / 12,
                "saves",
                f"roi scenario retrain {model.model_id}",
            )
        )
    return found


def _idle(data: ReportData) -> list[Action]:
    rows = warehouse.fetch_all(
        data.con,
        """SELECT a.rule_id, sum(a.amount)::DOUBLE AS cost,
                  (SELECT sum(b.quantity)::DOUBLE FROM allocation_bases b WHERE b.month = ?
                     AND b.rule_id = a.rule_id AND b.model_id = ?) AS quantity,
                  (SELECT any_value(b.unit) FROM allocation_bases b WHERE b.month = ?
                     AND b.rule_id = a.rule_id AND b.model_id = ?) AS unit
           FROM allocated_costs a WHERE a.model_id = ? AND a.month = ? AND a.currency = ?
           GROUP BY ALL ORDER BY cost DESC""",
        [data.month, IDLE, data.month, IDLE, IDLE, data.month, data.currency],
    )
    query = (
        "SELECT rule_id, sum(amount) AS idle_cost FROM allocated_costs "
        f"WHERE model_id = '{IDLE}' AND month = DATE '{data.month}' GROUP BY ALL"
    )
    found = []
    for rule, amount, quantity, unit in rows:
        if amount is None or round(amount, 2) <= 0:
            continue
        held = f": {quantity:,.0f} {unit or 'units'} no workload held" if quantity else ""
        found.append(
            Action(
                "idle",
                f"Reclaim idle capacity in {str(rule).removeprefix('pool:')}{held} (shrink the "
                "pool or move work onto it)",
                float(amount),
                "saves",
                f'roi query "{query}"',
            )
        )
    return found


def _tags(data: ReportData) -> list[Action]:
    top = warehouse.fetch_frame(
        data.con,
        """SELECT resource_id, sum(amount)::DOUBLE AS amount FROM unallocated_costs
           WHERE month = ? AND currency = ? AND resource_id IS NOT NULL GROUP BY ALL
           ORDER BY amount DESC, resource_id LIMIT ?""",
        [data.month, data.currency, TOP_RESOURCES],
    )
    if not top.height or round(float(top["amount"].sum()), 2) <= 0:
        return []
    query = (
        "SELECT provider, resource_id, reason, sum(amount) AS cost FROM unallocated_costs "
        f"WHERE month = DATE '{data.month}' AND resource_id IS NOT NULL GROUP BY ALL "
        f"ORDER BY cost DESC LIMIT {TOP_RESOURCES}"
    )
    ids = ", ".join(str(r) for r in top["resource_id"])
    return [
        Action(
            "tag",
            f"Tag the {top.height} largest unallocated resources with their model ({ids})",
            float(top["amount"].sum()),
            "places",
            f'roi query "{query}"',
        )
    ]


def actions(data: ReportData) -> tuple[list[Action], list[str]]:
    """The top actions by money a month (at most `TOP_PER_KIND` of a kind), and what the
    data lacks for the kinds that found nothing."""
    base: dict[str, Baseline] = {}
    priced = warehouse.fetch_one(
        data.con, "SELECT count(*) FROM model_roi WHERE month = ?", [data.month]
    )[0]
    if data.model_ids and priced:  # a month with no model P&L has no baseline to vary
        try:
            base = baselines(data.con, data.project, data.month)
        except RoiError:
            base = {}
    finders: dict[str, Callable[[], list[Action]]] = {
        "llm": lambda: _llm(data, base),
        "retire": lambda: _retire(data, base),
        "retrain": lambda: _retrain(data, base) if _latest(data) else [],
        "idle": lambda: _idle(data),
        "tag": lambda: _tags(data),
    }
    found: list[Action] = []
    for finder in finders.values():
        found += sorted(finder(), key=lambda a: -a.amount)[:TOP_PER_KIND]
    found.sort(key=lambda a: (-a.amount, a.what))
    return found[:TOP_ACTIONS], _missing(data, base, {a.kind for a in found})


def _latest(data: ReportData) -> bool:
    """`roi scenario retrain` works on the latest month: its figures are the report's only
    when the report is of that month."""
    latest = warehouse.fetch_one(data.con, "SELECT max(month) FROM model_roi")[0]
    return bool(latest == data.month)


def _missing(data: ReportData, base: dict[str, Baseline], kinds: set[str]) -> list[str]:
    """One line per kind of action the data could not look for, and how to add what lacks."""
    out = []
    if "llm" not in kinds and not any(b.llm for b in base.values()):
        out.append(
            "no LLM usage: connect LiteLLM or gateway logs with roi connect to compare "
            "self-hosting with an API"
        )
    gpu = warehouse.fetch_one(data.con, "SELECT count(*) FROM gpu_usage")[0]
    if "idle" not in kinds and not gpu:
        out.append("no GPU data: connect DCGM or OpenCost with roi connect to find idle GPUs")
    if "retire" not in kinds and not any(b.value is not None for b in base.values()):
        out.append("no model valued: give models a [value] method to find ones that lose money")
    if "retrain" not in kinds and not any(m.quality.metric for m in data.project.models):
        out.append(
            "no model metrics: declare [quality] metric and connect a metrics file to price "
            "retraining"
        )
    return out
