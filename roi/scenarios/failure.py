"""Failure exposure: Monte Carlo of each model's declared failure modes (`[[risks]]`).

For every draw (a simulated year) and failure mode, the number of events is Poisson with the
mode's yearly frequency (itself drawn when it is a range; `events = "fixed"`: exactly that
many), and each event loses

    value rate × (detection delay + fix days) / 30.4375 + recovery cost (+ fine)

where the value rate is the value of one metric point a month (measured or declared, see
`roi.scenarios.baseline`) × the metric drop in points (0.01), or, for an `outage`, the model's
whole recent monthly value; a `compliance` breach adds `fine_share` × the EU AI Act maximum of
its tier (Article 99: the higher of a fixed amount and a share of worldwide turnover, the lower
for SMEs; amounts in EUR, converted at `[risk] eur_rate`). A model's annual loss is the sum of
its events (compound Poisson, ../shared/reference/methods.md §7).

Models' losses are independent unless a correlation is declared (`[risk] correlation` between
every two models, `shared_cause_correlation` between models a risk names in `correlated_with`,
or `--correlation`): then each model's simulated losses are reordered so their ranks follow
correlated normal draws (a Gaussian copula, Iman–Conover), which keeps every model's own
distribution and fattens the portfolio's tail. Everything is vectorised over draws; the only
Python loop is over failure modes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from roi.config import ProjectConfig, RiskConfig, RiskSettings
from roi.context import Context
from roi.scenarios import Scenario, register
from roi.scenarios.baseline import (
    DAYS_PER_MONTH,
    MAX_SEED,
    Baseline,
    ScenarioError,
    baselines,
    check_count,
    check_level,
)
from roi.scenarios.draws import draw
from roi.scenarios.runs import Computed, ScenarioRun, chosen_models, fingerprint, run
from roi.warehouse import Connection

# EU AI Act, Article 99: (fixed maximum in EUR, share of worldwide annual turnover).
FINE_TIERS = {
    "prohibited": (35_000_000.0, 0.07),
    "high_risk": (15_000_000.0, 0.03),
    "information": (7_500_000.0, 0.01),
}
EXCEEDANCE_POINTS = 40
WORKERS = 2  # fixed, not the machine's core count, so that a seed gives the same draws anywhere


@dataclass(frozen=True)
class FailureMode:
    """One failure mode with the model figures its losses are priced with."""

    model_id: str
    risk: RiskConfig
    value_rate_per_point: float  # value of 0.01 of the metric a month
    monthly_value: float  # an outage loses this much a month
    fine_max: float  # the maximum fine of its tier in the project currency (0 if none)


def max_fine(tier: str, settings: RiskSettings) -> float:
    """The EU AI Act maximum for a tier, in the project currency."""
    fixed, share = FINE_TIERS[tier]
    if settings.annual_turnover is None:
        return fixed * settings.eur_rate
    by_turnover = share * settings.annual_turnover / settings.eur_rate
    eur = min(fixed, by_turnover) if settings.sme else max(fixed, by_turnover)
    return eur * settings.eur_rate


def failure_modes(
    project: ProjectConfig, baselines: dict[str, Baseline], models: list[str]
) -> tuple[list[FailureMode], list[str]]:
    """The failure modes of `models` priced from their baselines, and notes on the inputs."""
    modes: list[FailureMode] = []
    notes: list[str] = []
    by_id = {m.model_id: m for m in project.models}
    for model_id in models:
        base = baselines[model_id]
        per_point = base.value_per_point or 0.0
        notes.append(f"{model_id}: value per metric point {base.value_per_point_source}")
        for risk in by_id[model_id].risks:
            if risk.kind != "outage" and risk.metric_drop.mean > 0 and base.value_per_point is None:
                notes.append(
                    f"{model_id}: {risk.name!r} loses no value (no value per point: declare "
                    "[quality] value_per_point); only its recovery cost counts"
                )
            fine = max_fine(risk.tier, project.risk) if risk.tier else 0.0
            modes.append(
                FailureMode(model_id, risk, per_point, max(base.recent_value or 0.0, 0.0), fine)
            )
    if project.risk.annual_turnover is None and any(m.risk.tier for m in modes):
        notes.append("no [risk] annual_turnover: compliance fines use the Act's fixed maximum only")
    return modes, notes


def _event_losses(mode: FailureMode, n: int, rng: np.random.Generator) -> np.ndarray | float:
    risk = mode.risk
    delay = draw(risk.detection_delay_days, n, rng)
    fix = draw(risk.fix_days, n, rng)
    months = (delay + fix) / DAYS_PER_MONTH
    if risk.kind == "outage":
        rate: np.ndarray | float = mode.monthly_value
    else:
        rate = mode.value_rate_per_point * draw(risk.metric_drop, n, rng) * 100
    loss = rate * months + draw(risk.recovery_cost, n, rng)
    if mode.fine_max:
        loss = loss + draw(risk.fine_share, n, rng) * mode.fine_max
    return loss


def _simulate_part(
    modes: list[FailureMode], column: dict[str, int], draws: int, rng: np.random.Generator
) -> np.ndarray:
    losses = np.zeros((len(column), draws))
    owners = np.arange(draws)
    for mode in modes:
        frequency = mode.risk.frequency_per_year
        if mode.risk.events == "fixed":
            counts = np.rint(np.broadcast_to(draw(frequency, draws, rng), (draws,))).astype(
                np.int64
            )
        else:
            counts = rng.poisson(draw(frequency, draws, rng), draws)
        events = int(counts.sum())
        if not events:
            continue
        severity = _event_losses(mode, events, rng)
        j = column[mode.model_id]
        if np.isscalar(severity):
            losses[j] += counts * float(severity)  # type: ignore[arg-type]
        else:
            losses[j] += np.bincount(np.repeat(owners, counts), weights=severity, minlength=draws)
    return losses


def simulate(
    modes: list[FailureMode], models: list[str], draws: int, rng: np.random.Generator
) -> np.ndarray:
    """Annual loss per model and draw (models × draws), models independent.

    The failure modes are shared out over `WORKERS` threads (numpy draws and sums outside the
    interpreter lock), each with its own generator spawned from `rng`: the result depends on
    the seed only, never on how the threads were scheduled.
    """
    from concurrent.futures import ThreadPoolExecutor

    column = {m: j for j, m in enumerate(models)}
    generators = rng.spawn(WORKERS)
    parts = [modes[i::WORKERS] for i in range(WORKERS)]
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(
            pool.map(_simulate_part, parts, [column] * WORKERS, [draws] * WORKERS, generators)
        )
    return sum(results[1:], results[0])


def correlation_matrix(project: ProjectConfig, models: list[str], correlation: float) -> np.ndarray:
    """Pairwise correlation of models' losses: `correlation` for every pair, the shared-cause
    correlation for pairs a risk names, adjusted to the nearest valid (PSD) matrix."""
    index = {m: i for i, m in enumerate(models)}
    matrix = np.full((len(models), len(models)), correlation)
    shared = project.risk.shared_cause_correlation
    for model in project.models:
        for risk in model.risks:
            for other in risk.correlated_with:
                if model.model_id in index and other in index:
                    i, j = index[model.model_id], index[other]
                    matrix[i, j] = matrix[j, i] = max(matrix[i, j], shared)
    np.fill_diagonal(matrix, 1.0)
    values, vectors = np.linalg.eigh(matrix)
    if values.min() < 0:
        matrix = vectors @ np.diag(np.clip(values, 1e-9, None)) @ vectors.T
        scale = np.sqrt(np.diag(matrix))
        matrix = matrix / np.outer(scale, scale)
    return matrix


def correlate(
    losses: np.ndarray, matrix: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(losses, models × draws, reordered so each model's ranks follow normals with
    `matrix`'s correlation; each model's losses sorted)."""
    ordered = np.sort(losses, axis=1)
    if np.allclose(matrix, np.eye(len(matrix))):
        return losses, ordered
    factor = np.linalg.cholesky(matrix).astype(np.float32)
    normals = factor @ rng.standard_normal(losses.shape, dtype=np.float32)
    order = np.argsort(normals, axis=1)  # draw of the k-th smallest normal, per model
    out = np.empty_like(losses)
    np.put_along_axis(out, order, ordered, axis=1)
    return out, ordered


def summary(loss: np.ndarray, level: float, ordered: np.ndarray | None = None) -> dict[str, float]:
    """Expected annual loss, its Monte Carlo standard error, percentiles, VaR and ES
    (`ordered`: the same losses sorted, when the caller has them)."""
    ordered = np.sort(loss) if ordered is None else ordered

    def quantile(q: float) -> float:  # numpy's default (linear) quantile, on sorted values
        position = q * (ordered.size - 1)
        below = int(np.floor(position))
        above = min(below + 1, ordered.size - 1)
        return float(ordered[below] + (position - below) * (ordered[above] - ordered[below]))

    var = quantile(level)
    tail = ordered[np.searchsorted(ordered, var, side="left") :]
    return {
        "expected_annual_loss": float(loss.mean()),
        "mc_standard_error": float(loss.std(ddof=1) / np.sqrt(loss.size)),
        "p50": quantile(0.50),
        "p90": quantile(0.90),
        "p95": quantile(0.95),
        "p99": quantile(0.99),
        "var": var,
        "expected_shortfall": float(tail.mean()) if tail.size else var,
        "max": float(ordered[-1]),
    }


def exceedance(loss: np.ndarray) -> list[dict[str, float]]:
    """The loss-exceedance curve: P(annual loss > x) at log-spaced x up to the largest draw."""
    positive = loss[loss > 0]
    if not positive.size:
        return []
    low = max(float(np.quantile(positive, 0.01)), 1.0)
    grid = np.geomspace(low, float(positive.max()), EXCEEDANCE_POINTS)
    ordered = np.sort(loss)
    above = 1.0 - np.searchsorted(ordered, grid, side="right") / loss.size
    return [{"loss": float(x), "probability": float(p)} for x, p in zip(grid, above, strict=True)]


def check_correlation(rho: float) -> None:
    """A correlation between models' losses must be from 0 to below 1."""
    if not 0 <= rho < 1:
        raise ScenarioError(f"--correlation {rho} must be from 0 to below 1 (e.g. 0.3)")


def exposure(
    project: ProjectConfig,
    baselines: dict[str, Baseline],
    models: list[str],
    draws: int,
    seed: int,
    level: float,
    correlation: float | None = None,
) -> dict[str, object]:
    """The failure-exposure run: per model and for the portfolio, with the inputs' notes."""
    check_level(level)
    rho = project.risk.correlation if correlation is None else correlation
    check_correlation(rho)
    modes, notes = failure_modes(project, baselines, models)
    if not modes:
        raise ScenarioError(
            "no [[risks]] declared for " + ", ".join(models) + "; add failure modes to the "
            "model files (see the README: [[risks]])"
        )
    rng = np.random.default_rng(seed)
    independent = simulate(modes, models, draws, rng)
    matrix = correlation_matrix(project, models, rho)
    correlated, ordered = correlate(independent, matrix, rng)
    per_model = []
    for j, model_id in enumerate(models):
        row: dict[str, object] = {
            "model_id": model_id,
            "failure_modes": sum(1 for m in modes if m.model_id == model_id),
            **summary(correlated[j], level, ordered[j]),
        }
        per_model.append(row)
    portfolio = correlated.sum(axis=0)
    total: dict[str, object] = {"model_id": "PORTFOLIO", **summary(portfolio, level)}
    if not np.allclose(matrix, np.eye(len(models))):
        alone = summary(independent.sum(axis=0), level)
        total |= {f"independent_{k}": alone[k] for k in ("p99", "var", "expected_shortfall")}
    return {
        "level": level,
        "draws": draws,
        "correlation": rho,
        "currency": project.project.currency,
        "models": per_model,
        "portfolio": total,
        "exceedance": exceedance(portfolio),
        "notes": notes,
    }


@dataclass(frozen=True)
class FailureOptions:
    """`roi scenario failure`: draws, seed, level and correlation default to `[risk]`'s."""

    model: str | None = None
    all_models: bool = False
    draws: int | None = None
    seed: int = 0
    level: float | None = None
    correlation: float | None = None


def run_failure(ctx: Context, options: FailureOptions) -> ScenarioRun:
    """Expected annual loss, percentiles, VaR, ES and the loss-exceedance curve."""
    model, seed, correlation = options.model, options.seed, options.correlation
    check_count("--seed", seed, 0, MAX_SEED)
    models = chosen_models(ctx, model, options.all_models or model is None)
    settings = ctx.project.risk
    n = check_count(
        "--draws", settings.draws if options.draws is None else options.draws, 1_000, 10_000_000
    )
    at = settings.level if options.level is None else options.level
    check_level(at)
    if correlation is not None:
        check_correlation(correlation)

    def compute(con: Connection) -> Computed:
        base = baselines(con, ctx.project)
        ctx.progress.info(f"simulating {n:,} years × {len(models)} model(s)")
        outputs = exposure(ctx.project, base, models, n, seed, at, correlation)
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
            **fingerprint(con, base),
        }
        return Computed(inputs, outputs, table)

    return run(ctx, f"failure {model or '--all'}", seed, compute)


def _monthly(project: ProjectConfig) -> FailureOptions | None:
    """The monthly job's failure exposure: every model, seed 0, when any has failure modes."""
    if any(m.risks and m.stage != "retired" for m in project.models):
        return FailureOptions(all_models=True)
    return None


register(Scenario("failure", FailureOptions, run_failure, _monthly))
