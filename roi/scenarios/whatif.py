"""What-if: change drivers and see each model's cost, value and ROI move against the baseline.

The baseline is one month's P&L per model (`roi.scenarios.baseline`), its cost split into the
parts drivers act on. A driver is `name=value` for every model or `name[MODEL]=value` for one;
they apply in the order given. Drivers (`DRIVERS`, one function each):

- `gpu_price=F`, `token_price=F`: GPU cost (GPU compute and GPU pools) or API cost × F;
- `traffic=F`: API, GPU and CPU cost and value × F (serving scales with traffic; storage,
  platform and training do not);
- `utilization=U`: GPU cost × (the model's GPU efficiency today / U): the GPU-hours needed to do
  the same work at a target busy share;
- `quantize=F`: GPU-hours (so GPU cost) × F, as quantization or distillation would; with
  `metric_change=P` for the quality it costs (P metric points, value per point × P);
- `unit_value=F`: value × F;
- `retire=MODEL`: the model earns and spends nothing; its share of the ML platform is spread over
  the other models (the platform still costs), and its GPU share stays as idle capacity until
  the pool shrinks;
- `self_host=MODEL`: its API tokens served at its self-hosted cost per 1M tokens (or
  `self_host_per_1m[MODEL]=C`); `use_api=MODEL`: its self-hosted tokens at its reference API's
  price for the same token mix (`[llm] api_prices`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from roi.context import Context
from roi.scenarios import Scenario, register
from roi.scenarios.baseline import Baseline, ScenarioError, baselines
from roi.scenarios.runs import Computed, ScenarioRun, fingerprint, run
from roi.vocabulary import IDLE
from roi.warehouse import Connection


@dataclass(frozen=True)
class Figures:
    """A model's month as drivers change it."""

    costs: dict[str, float]
    value: float | None

    @property
    def cost(self) -> float:
        """Total cost."""
        return sum(self.costs.values())


State = dict[str, Figures]
Settings = dict[tuple[str, str], float]  # (setting, model) → value, e.g. self_host_per_1m
Driver = Callable[[State, dict[str, Baseline], list[str], str, Settings], None]


def _factor(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"--set {name}={text}: expected a number, e.g. {name}=1.2") from None
    if value < 0:
        raise ScenarioError(f"--set {name}={text}: must be at least 0")
    return value


def _scale(name: str, parts: tuple[str, ...], value_too: bool = False) -> Driver:
    def apply(
        state: State, base: dict[str, Baseline], models: list[str], text: str, _: Settings
    ) -> None:
        f = _factor(name, text)
        for m in models:
            old = state[m]
            costs = {k: v * f if k in parts else v for k, v in old.costs.items()}
            value = old.value * f if value_too and old.value is not None else old.value
            state[m] = Figures(costs, value)

    return apply


def _utilization(
    state: State, base: dict[str, Baseline], models: list[str], text: str, settings: Settings
) -> None:
    target = _factor("utilization", text)
    if not 0 < target <= 1:
        raise ScenarioError(f"--set utilization={text}: a busy share above 0 and at most 1")
    for m in models:
        efficiency = base[m].gpu_efficiency
        if efficiency is None or state[m].costs["gpu"] == 0:
            continue
        costs = dict(state[m].costs)
        costs["gpu"] *= efficiency / target
        state[m] = Figures(costs, state[m].value)


def _metric_change(
    state: State, base: dict[str, Baseline], models: list[str], text: str, settings: Settings
) -> None:
    try:
        points = float(text)
    except ValueError:
        raise ScenarioError(f"--set metric_change={text}: metric points, e.g. -0.5") from None
    for m in models:
        per_point = base[m].value_per_point
        if per_point is None:
            raise ScenarioError(
                f"--set metric_change: {m} has no value per metric point (declare "
                "[quality] value_per_point)"
            )
        old = state[m]
        state[m] = Figures(old.costs, (old.value or 0.0) + points * per_point)


def _model(text: str, base: dict[str, Baseline]) -> str:
    if text not in base:
        raise ScenarioError(f"unknown model {text!r}; known models: {', '.join(base)}")
    return text


def _retire(
    state: State, base: dict[str, Baseline], models: list[str], text: str, settings: Settings
) -> None:
    gone = _model(text, base)
    old = state[gone]
    others = [m for m in state if m not in (gone, IDLE) and state[m].costs["platform"] > 0]
    platform = sum(state[m].costs["platform"] for m in others)
    for m in others:
        costs = dict(state[m].costs)
        costs["platform"] += old.costs["platform"] * costs["platform"] / platform
        state[m] = Figures(costs, state[m].value)
    idle = state.setdefault(IDLE, Figures({k: 0.0 for k in old.costs}, None))
    state[IDLE] = Figures({**idle.costs, "gpu": idle.costs["gpu"] + old.costs["gpu"]}, None)
    state[gone] = Figures({k: 0.0 for k in old.costs}, 0.0 if old.value is not None else None)


def _self_host(
    state: State, base: dict[str, Baseline], models: list[str], text: str, settings: Settings
) -> None:
    model = _model(text, base)
    api, own = base[model].llm.get("api"), base[model].llm.get("self_hosted")
    if api is None:
        raise ScenarioError(f"--set self_host={model}: it sends no tokens to an API")
    per_1m = settings.get(("self_host_per_1m", model))
    if per_1m is None:
        if own is None:
            raise ScenarioError(
                f"--set self_host={model}: no self-hosted serving to price it with; give "
                f"--set self_host_per_1m[{model}]=COST (per 1M tokens)"
            )
        per_1m = own["cost_per_1m_tokens"]
    costs = dict(state[model].costs)
    costs["api"] = max(costs["api"] - api["cost"], 0.0)
    costs["gpu"] += api["tokens"] / 1e6 * per_1m
    state[model] = Figures(costs, state[model].value)


def _use_api(
    state: State, base: dict[str, Baseline], models: list[str], text: str, settings: Settings
) -> None:
    model = _model(text, base)
    own = base[model].llm.get("self_hosted")
    if own is None or not own["api_cost_same_mix"]:
        raise ScenarioError(
            f"--set use_api={model}: no self-hosted tokens with a reference API price "
            "([llm] api_prices)"
        )
    costs = dict(state[model].costs)
    costs["gpu"] = max(costs["gpu"] - own["cost"], 0.0)
    costs["api"] += own["api_cost_same_mix"]
    state[model] = Figures(costs, state[model].value)


DRIVERS: dict[str, Driver] = {
    "gpu_price": _scale("gpu_price", ("gpu",)),
    "token_price": _scale("token_price", ("api",)),
    "traffic": _scale("traffic", ("api", "gpu", "cpu"), value_too=True),
    "utilization": _utilization,
    "quantize": _scale("quantize", ("gpu",)),
    "metric_change": _metric_change,
    "unit_value": _scale("unit_value", (), value_too=True),
    "retire": _retire,
    "self_host": _self_host,
    "use_api": _use_api,
}
MODEL_DRIVERS = ("retire", "self_host", "use_api")
SETTINGS = ("self_host_per_1m",)


def parse(assignments: list[str], base: dict[str, Baseline]) -> list[tuple[str, str | None, str]]:
    """`name=value` and `name[MODEL]=value` → (driver, model or None, value), checked."""
    out = []
    for text in assignments:
        name, sep, value = text.partition("=")
        scope = None
        if "[" in name and name.endswith("]"):
            name, scope = name[:-1].split("[", 1)
        if not sep or not value:
            raise ScenarioError(f"--set {text}: write driver=value, e.g. gpu_price=0.8")
        if name not in DRIVERS and name not in SETTINGS:
            raise ScenarioError(
                f"--set {text}: unknown driver {name!r}; drivers: "
                + ", ".join([*DRIVERS, *SETTINGS])
            )
        if scope is not None:
            _model(scope, base)
            if name in MODEL_DRIVERS:
                raise ScenarioError(
                    f"--set {text}: {name} takes a model as its value: {name}={scope}"
                )
        out.append((name, scope, value))
    return out


def apply(base: dict[str, Baseline], assignments: list[tuple[str, str | None, str]]) -> State:
    """The P&L after the drivers, per model (and freed GPU capacity as `__idle__`)."""
    state: State = {m: Figures(dict(b.costs), b.value) for m, b in base.items()}
    settings: Settings = {}
    for name, scope, value in assignments:
        if name in SETTINGS:
            settings[(name, scope or "")] = _factor(name, value)
    for name, scope, value in assignments:
        if name in SETTINGS:
            continue
        models = [scope] if scope else [m for m in base if base[m].stage != "retired"]
        DRIVERS[name](state, base, models, value, settings)
    return state


def _roi(cost: float, value: float | None) -> float | None:
    return None if value is None or not cost else (value - cost) / cost


_FIGURES = ("cost", "value", "net", "roi")
_COMPARED = {
    "model_id": pl.String,
    **{name: pl.Float64 for name in (*_FIGURES, *(f"scenario_{f}" for f in _FIGURES))},
}


def _total(column: pl.Series) -> float | None:
    """The column's sum, or None when no row has a figure (no model valued)."""
    return None if column.null_count() == len(column) else float(column.sum())


def compare(base: dict[str, Baseline], state: State) -> pl.DataFrame:
    """Baseline against scenario per model and for the portfolio, with the differences."""
    rows = []
    for model_id in [*base, *([IDLE] if IDLE in state else [])]:
        before = base.get(model_id)
        after = state[model_id]
        cost0 = before.cost if before else 0.0
        value0 = before.value if before else None
        rows.append(
            {
                "model_id": model_id,
                "cost": cost0,
                "value": value0,
                "net": None if value0 is None else value0 - cost0,
                "roi": _roi(cost0, value0),
                "scenario_cost": after.cost,
                "scenario_value": after.value,
                "scenario_net": None if after.value is None else after.value - after.cost,
                "scenario_roi": _roi(after.cost, after.value),
            }
        )
    frame = pl.DataFrame(rows, schema=_COMPARED, orient="row")
    cost, value = _total(frame["cost"]) or 0.0, _total(frame["value"])
    cost1, value1 = _total(frame["scenario_cost"]) or 0.0, _total(frame["scenario_value"])
    total: dict[str, object] = {
        "model_id": "PORTFOLIO",
        "cost": cost,
        "value": value,
        "net": None if value is None else value - cost,
        "roi": _roi(cost, value),
        "scenario_cost": cost1,
        "scenario_value": value1,
        "scenario_net": None if value1 is None else value1 - cost1,
        "scenario_roi": _roi(cost1, value1),
    }
    frame = pl.concat([frame, pl.DataFrame([total])], how="diagonal_relaxed")
    return frame.with_columns(
        cost_change=pl.col("scenario_cost") - pl.col("cost"),
        value_change=pl.col("scenario_value") - pl.col("value"),
        net_change=pl.col("scenario_net") - pl.col("net"),
    )


def with_month(frame: pl.DataFrame, base: dict[str, Baseline]) -> pl.DataFrame:
    """The table with its month and currency."""
    first = next(iter(base.values()))
    return frame.with_columns(month=pl.lit(first.month), currency=pl.lit(first.currency))


__all__ = ["DRIVERS", "Figures", "apply", "compare", "parse", "with_month"]


@dataclass(frozen=True)
class WhatifOptions:
    """`roi scenario whatif`: `DRIVER=VALUE` or `DRIVER[MODEL]=VALUE` assignments."""

    assignments: tuple[str, ...] = ()
    month: date | None = None


def run_whatif(ctx: Context, options: WhatifOptions) -> ScenarioRun:
    """Cost, value, net and ROI after the drivers, against the baseline month."""
    assignments = list(options.assignments)
    if not assignments:
        raise ScenarioError("give at least one --set driver=value; drivers: " + ", ".join(DRIVERS))

    def compute(con: Connection) -> Computed:
        base = baselines(con, ctx.project, options.month)
        state = apply(base, parse(assignments, base))
        table = with_month(compare(base, state), base)
        inputs = {"set": assignments, **fingerprint(con, base)}
        return Computed(inputs, {"set": assignments, "rows": table.to_dicts()}, table)

    return run(ctx, "whatif " + " ".join(f"--set {a}" for a in assignments), None, compute)


register(Scenario("whatif", WhatifOptions, run_whatif))
