"""The scenario commands as library calls: each takes the project context and its parameters,
computes on the warehouse and returns the stored `ScenarioRun` (the CLI only formats it)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path

import polars as pl

from roi.context import Context
from roi.scenarios import decay as decay_module
from roi.scenarios import failure as failure_module
from roi.scenarios import forecast as forecast_module
from roi.scenarios import retrain as retrain_module
from roi.scenarios import sensitivity as sensitivity_module
from roi.scenarios import whatif as whatif_module
from roi.scenarios.baseline import Baseline, ScenarioError, baselines, check_level, model_config
from roi.scenarios.runs import Computed, ScenarioRun, content_digest, run
from roi.warehouse import Connection


def _fingerprint(con: Connection, base: dict[str, Baseline]) -> dict[str, object]:
    """What the warehouse's answer depends on: the figures it read, by content (the same
    inputs built again, under new load and attribution ids, give the same run id)."""
    return {
        "warehouse_content": content_digest(con),
        "month": next(iter(base.values())).month if base else None,
        "baselines": {m: asdict(b) for m, b in base.items()},
    }


def _models(ctx: Context, model: str | None, all_models: bool) -> list[str]:
    if model and all_models:
        raise ScenarioError("give a MODEL or --all, not both")
    if model:
        return [model_config(ctx.project, model).model_id]
    live = [m.model_id for m in ctx.project.models if m.stage != "retired"]
    if not live:
        raise ScenarioError("the project has no models that are not retired")
    return live


def decay(
    ctx: Context, model: str | None, all_models: bool, level: float, max_lags: int
) -> ScenarioRun:
    """Measured decay per month (with its interval) next to the declared decay."""
    models = _models(ctx, model, all_models or model is None)
    check_level(level, "0.9")

    def compute(con: Connection) -> Computed:
        base = baselines(con, ctx.project)
        found = [
            decay_module.decay(con, model_config(ctx.project, m), level, max_lags) for m in models
        ]
        table = decay_module.decay_rows(found, base)
        inputs = {"models": models, "level": level, "max_lags": max_lags, **_fingerprint(con, base)}
        return Computed(inputs, {"decay": table.to_dicts()}, table)

    return run(ctx, f"decay {model or '--all'}", None, compute)


def failure(
    ctx: Context,
    model: str | None,
    all_models: bool,
    draws: int | None,
    seed: int,
    level: float | None,
    correlation: float | None,
) -> ScenarioRun:
    """Expected annual loss, percentiles, VaR, ES and the loss-exceedance curve."""
    models = _models(ctx, model, all_models or model is None)
    settings = ctx.project.risk
    n = draws or settings.draws
    if not 1_000 <= n <= 10_000_000:
        raise ScenarioError(f"--draws {n} must be from 1,000 to 10,000,000")
    at = settings.level if level is None else level
    check_level(at)
    if correlation is not None:
        failure_module.check_correlation(correlation)

    def compute(con: Connection) -> Computed:
        base = baselines(con, ctx.project)
        ctx.progress.info(f"simulating {n:,} years × {len(models)} model(s)")
        outputs = failure_module.exposure(ctx.project, base, models, n, seed, at, correlation)
        rows = [*outputs["models"], outputs["portfolio"]]  # type: ignore[misc]
        table = pl.DataFrame(rows, infer_schema_length=None).with_columns(
            level=pl.lit(at), currency=pl.lit(ctx.project.project.currency)
        )
        inputs = {
            "models": models,
            "draws": n,
            "level": at,
            "correlation": outputs["correlation"],
            "risk_settings": asdict(settings),
            "risks": {
                m.model_id: [asdict(r) for r in m.risks]
                for m in ctx.project.models
                if m.model_id in models
            },
            **_fingerprint(con, base),
        }
        return Computed(inputs, outputs, table)

    return run(ctx, f"failure {model or '--all'}", seed, compute)


def forecast(ctx: Context, model: str | None, months: int, level: float) -> ScenarioRun:
    """Cost, value and net forecasts with intervals, per model and for the portfolio."""
    models = _models(ctx, model, model is None)
    check_level(level, "0.8")

    def compute(con: Connection) -> Computed:
        table = forecast_module.forecast(
            con, models, ctx.project.project.currency, months, level, ctx.progress
        )
        if model:
            table = table.filter(pl.col("model_id") == model)
        inputs = {
            "models": models,
            "months": months,
            "level": level,
            **_fingerprint(con, baselines(con, ctx.project)),
        }
        return Computed(inputs, {"forecast": table.to_dicts()}, table)

    return run(ctx, f"forecast {model or '--all'}", None, compute)


def whatif(ctx: Context, assignments: list[str], month: date | None) -> ScenarioRun:
    """Cost, value, net and ROI after the drivers, against the baseline month."""
    if not assignments:
        raise ScenarioError(
            "give at least one --set driver=value; drivers: " + ", ".join(whatif_module.DRIVERS)
        )

    def compute(con: Connection) -> Computed:
        base = baselines(con, ctx.project, month)
        parsed = whatif_module.parse(assignments, base)
        state = whatif_module.apply(base, parsed)
        table = whatif_module.with_month(whatif_module.compare(base, state), base)
        inputs = {"set": assignments, **_fingerprint(con, base)}
        return Computed(inputs, {"set": assignments, "rows": table.to_dicts()}, table)

    return run(ctx, "whatif " + " ".join(f"--set {a}" for a in assignments), None, compute)


def sensitivity(
    ctx: Context, model: str, ranges: list[str], month: date | None, out: Path | None
) -> ScenarioRun:
    """The tornado of one model's ROI, as a table and a chart (PNG and SVG)."""
    model_config(ctx.project, model)
    overrides = sensitivity_module.parse_ranges(ranges)

    def compute(con: Connection) -> Computed:
        base = baselines(con, ctx.project, month)
        roi, table = sensitivity_module.tornado(base, model, overrides)
        b = base[model]
        folder = out or ctx.project.root / ctx.project.project.reports_out
        files = sensitivity_module.write_chart(
            sensitivity_module.chart(table, roi, f"{b.name}: ROI by driver, {b.month:%B %Y}"),
            folder,
            f"sensitivity_{model}_{b.month:%Y-%m}",
        )
        inputs = {"model": model, "ranges": ranges, **_fingerprint(con, base)}
        outputs = {"model_id": model, "month": b.month, "roi": roi, "drivers": table.to_dicts()}
        return Computed(inputs, outputs, table.with_columns(baseline_roi=pl.lit(roi)), files)

    return run(ctx, f"sensitivity {model}", None, compute)


def retrain(ctx: Context, model: str, draws: int, seed: int, level: float) -> ScenarioRun:
    """Yearly cost of decay plus retraining per policy; the best and its margin over today."""
    config = model_config(ctx.project, model)
    check_level(level, "0.9")

    def compute(con: Connection) -> Computed:
        base = baselines(con, ctx.project)
        measured = decay_module.decay(con, config, level)
        outputs = retrain_module.retrain(con, config, base[model], measured, draws, seed, level)
        table = pl.DataFrame(outputs["policies"]).with_columns(  # type: ignore[arg-type]
            currency=pl.lit(ctx.project.project.currency)
        )
        inputs = {
            "model": model,
            "draws": draws,
            "level": level,
            "decay": asdict(measured),
            **_fingerprint(con, base),
        }
        return Computed(inputs, outputs, table)

    return run(ctx, f"retrain {model}", seed, compute)
