"""Decay: how fast a model's quality metric falls between retrainings, measured and declared.

From `model_metrics`, each observation's age is the months since the first observation of its
model version (a retraining starts a new version). OLS of the metric on age with a fixed effect
per version, `value ~ age + C(version)`, with Newey–West errors within each version summed over
versions (statsmodels' `hac-panel`, `max_lags` observations: weekly metrics are autocorrelated,
versions are independent) and t quantiles, gives the decay per month (−slope where higher
is better) with its interval. It is `measured` when there are at least `MIN_OBSERVATIONS`
observations and the interval excludes zero; the scenarios then use it, else the model's
declared `[quality] decay_per_month`. The value lost per month of age is decay × 100 × the value
of one metric point (see `roi.scenarios.baseline`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import polars as pl

from roi import warehouse
from roi.config import ModelConfig, ProjectConfig
from roi.context import Context
from roi.scenarios import Scenario, register
from roi.scenarios.baseline import (
    DAYS_PER_MONTH,
    Baseline,
    baselines,
    check_count,
    check_level,
    model_config,
)
from roi.scenarios.runs import Computed, ScenarioRun, chosen_models, fingerprint, run
from roi.warehouse import Connection

MIN_OBSERVATIONS = 12


@dataclass(frozen=True)
class Decay:
    """Measured decay of one model's metric (metric units per month)."""

    model_id: str
    metric: str
    observations: int
    versions: int
    per_month: float | None
    low: float | None
    high: float | None
    p_value: float | None
    measured: bool
    declared: float | None
    used: float | None
    source: str
    note: str


def metric_history(con: Connection, model_id: str, metric: str) -> pl.DataFrame:
    """(ts, value, version, age in months) of a model's metric."""
    frame = warehouse.fetch_frame(
        con,
        """SELECT ts, value, coalesce(model_version, '') AS version FROM model_metrics
           WHERE model_id = ? AND metric = ? ORDER BY ts""",
        [model_id, metric],
    )
    if not frame.height:
        return frame.with_columns(age=pl.lit(None, pl.Float64))
    return frame.with_columns(
        age=(pl.col("ts") - pl.col("ts").min().over("version")).dt.total_seconds()
        / (86_400 * DAYS_PER_MONTH)
    )


def fit_decay(
    history: pl.DataFrame, higher_is_better: bool, level: float, max_lags: int
) -> tuple[float, float, float, float]:
    """(decay per month, low, high, p-value) of `value ~ age + C(version)` with HAC errors."""
    import statsmodels.formula.api as smf

    data = history.select("value", "age", "version").to_pandas()
    if history["version"].n_unique() > 1:
        groups = data["version"].astype("category").cat.codes
        result = smf.ols("value ~ age + C(version)", data).fit(
            cov_type="hac-panel", cov_kwds={"groups": groups, "maxlags": max_lags}, use_t=True
        )
    else:
        result = smf.ols("value ~ age", data).fit(
            cov_type="HAC", cov_kwds={"maxlags": max_lags}, use_t=True
        )
    slope = float(result.params["age"])
    low, high = (float(v) for v in result.conf_int(alpha=1 - level).loc["age"])
    sign = -1.0 if higher_is_better else 1.0
    per_month, bounds = sign * slope, sorted((sign * low, sign * high))
    return per_month, bounds[0], bounds[1], float(result.pvalues["age"])


def decay(con: Connection, model: ModelConfig, level: float = 0.9, max_lags: int = 4) -> Decay:
    """The model's measured decay next to its declared one."""
    check_level(level, "0.9")
    metric = model.quality.metric
    declared = model.quality.decay_per_month
    if metric is None:
        return Decay(
            model.model_id,
            "",
            0,
            0,
            None,
            None,
            None,
            None,
            False,
            declared,
            declared,
            "declared" if declared is not None else "none",
            f"no [quality] metric in {model.file.name}",
        )
    history = metric_history(con, model.model_id, metric).filter(pl.col("age").is_not_null())
    versions = history["version"].n_unique() if history.height else 0
    usable = history.height >= MIN_OBSERVATIONS and history["age"].n_unique() > 2
    per_month = low = high = p_value = None
    if usable:
        per_month, low, high, p_value = fit_decay(
            history, model.quality.higher_is_better, level, max_lags
        )
    measured = usable and low is not None and high is not None and not (low <= 0 <= high)
    if measured:
        used, source = per_month, "measured"
    elif declared is not None:
        used, source = declared, "declared"
    else:
        used, source = (
            per_month if usable else None,
            "measured (not significant)" if usable else "none",
        )
    note = (
        f"{level:.0%} interval, OLS value ~ age + C(version), Newey-West errors within "
        f"versions ({max_lags} lags)"
        if usable
        else f"{history.height} observation(s): too few to estimate (need {MIN_OBSERVATIONS})"
    )
    return Decay(
        model.model_id,
        metric,
        history.height,
        versions,
        per_month,
        low,
        high,
        p_value,
        measured,
        declared,
        used,
        source,
        note,
    )


def decay_rows(decays: list[Decay], baselines: dict[str, Baseline]) -> pl.DataFrame:
    """One row per model: measured and declared decay, and the value it loses a month."""
    rows = []
    for d in decays:
        base = baselines.get(d.model_id)
        per_point = base.value_per_point if base else None
        rows.append(
            {
                "model_id": d.model_id,
                "metric": d.metric,
                "observations": d.observations,
                "versions": d.versions,
                "measured_decay_per_month": d.per_month,
                "measured_low": d.low,
                "measured_high": d.high,
                "p_value": d.p_value,
                "declared_decay_per_month": d.declared,
                "used": d.source,
                "decay_per_month": d.used,
                "value_lost_per_month_of_age": None
                if d.used is None or per_point is None
                else d.used * 100 * per_point,
                "value_per_point_source": base.value_per_point_source if base else "",
                "note": d.note,
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


@dataclass(frozen=True)
class DecayOptions:
    """`roi scenario decay`: one model, or every model that is not retired."""

    model: str | None = None
    all_models: bool = False
    level: float = 0.9
    max_lags: int = 4


def run_decay(ctx: Context, options: DecayOptions) -> ScenarioRun:
    """Measured decay per month (with its interval) next to the declared decay."""
    model, level, max_lags = options.model, options.level, options.max_lags
    models = chosen_models(ctx, model, options.all_models or model is None)
    check_level(level, "0.9")
    check_count("--max-lags", max_lags, 0, 52)

    def compute(con: Connection) -> Computed:
        base = baselines(con, ctx.project)
        found = [decay(con, model_config(ctx.project, m), level, max_lags) for m in models]
        table = decay_rows(found, base)
        inputs = {"models": models, "level": level, "max_lags": max_lags, **fingerprint(con, base)}
        return Computed(inputs, {"decay": table.to_dicts()}, table)

    return run(ctx, f"decay {model or '--all'}", None, compute)


def _monthly(_project: ProjectConfig) -> DecayOptions:
    """The monthly job's decay: every model, at the default level and lags."""
    return DecayOptions(all_models=True)


def stored_decays(con: Connection, project: ProjectConfig) -> dict[str, Decay] | None:
    """Each model's decay from the monthly job's stored run, when that run was made from the
    warehouse and definitions as they are now (`roi.reuse`); None when there is none, so the
    caller measures it (what `decay` would give: same level and lags, same figures)."""
    from roi.reuse import inputs_key, reusable

    key = inputs_key(con, project, "scenario", _monthly(project))
    run_id = reusable(con, "scenario:decay", key)
    rows = warehouse.fetch_all(
        con, "SELECT outputs FROM scenario_runs WHERE run_id = ?", [run_id or ""]
    )
    if not rows:
        return None
    return {row["model_id"]: _from_row(row) for row in json.loads(rows[0][0])["decay"]}


def _from_row(row: dict[str, Any]) -> Decay:
    return Decay(
        row["model_id"],
        row["metric"],
        row["observations"],
        row["versions"],
        row["measured_decay_per_month"],
        row["measured_low"],
        row["measured_high"],
        row["p_value"],
        row["used"] == "measured",
        row["declared_decay_per_month"],
        row["decay_per_month"],
        row["used"],
        row["note"],
    )


register(Scenario("decay", DecayOptions, run_decay, _monthly))
