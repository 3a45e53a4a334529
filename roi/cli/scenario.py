"""`roi scenario ...`: decay, failure exposure, forecast, what-if, sensitivity, retraining.

Each command builds its kind's options, runs it (`roi.scenarios.run_scenario`), prints its
table (or, with `--format json`, the whole run: id, command, seed, inputs and outputs, money as
decimal strings to the cent: `roi.documents`) and names the stored run id on stderr.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from roi.cli.support import (
    MONTH,
    Options,
    command_group,
    emit,
    emit_document,
    roi_command,
    say,
)

if TYPE_CHECKING:
    from roi.scenarios.runs import ScenarioRun

# roi.scenarios (statsmodels, altair) is imported by the commands that use it, not at start-up.


def _show(opts: Options, run: ScenarioRun) -> None:
    from roi.scenarios.runs import canonical

    notes = run.outputs.get("notes") if isinstance(run.outputs, dict) else None
    if opts.fmt == "json":
        emit_document(json.loads(canonical(run.document())), sort_keys=True)
    elif opts.fmt == "table" and not run.table.height and notes:
        for note in notes:  # an empty table: the note is the result
            say(note)
        notes = []
    else:
        emit(opts, run.table)
    if not opts.quiet:
        for note in notes or []:
            click.echo(f"note: {note}", err=True)
        for path in run.files:
            click.echo(f"wrote {path}", err=True)
        click.echo(f"scenario run {run.run_id} (stored in scenario_runs)", err=True)


scenario = command_group(
    "scenario",
    """What-if, risk and forecast scenarios on the warehouse's cost and value.

    Every run is stored in the table scenario_runs under an id that reports can cite; the
    same inputs and --seed give the same id and the same numbers.
    """,
)


LEVEL = click.option("--level", type=float, default=None, help="Interval or VaR level in (0, 1).")
SEED = click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed (0 to 4,294,967,295)."
)


@scenario.command()
@click.argument("model", required=False)
@click.option("--all", "all_models", is_flag=True, help="Every model that is not retired.")
@LEVEL
@click.option("--max-lags", type=int, default=4, show_default=True, help="Newey-West lags.")
@roi_command
def decay(
    opts: Options, model: str | None, all_models: bool, level: float | None, max_lags: int
) -> None:
    """Metric decay per month between retrainings, measured (with its interval) and declared.

    \b
    Examples:
      roi scenario decay fraud-detection
      roi scenario decay --all --level 0.95 --format csv
    """
    from roi.scenarios import run_scenario
    from roi.scenarios.decay import DecayOptions

    options = DecayOptions(model, all_models, 0.9 if level is None else level, max_lags)
    _show(opts, run_scenario(opts.context(), "decay", options))


@scenario.command()
@click.argument("model", required=False)
@click.option("--all", "all_models", is_flag=True, help="Every model that is not retired.")
@click.option("--draws", type=int, default=None, help="Simulated years ([risk] draws).")
@SEED
@LEVEL
@click.option(
    "--correlation",
    type=float,
    default=None,
    help="Correlation between every two models' losses (default [risk] correlation; 0: "
    "independent).",
)
@roi_command
def failure(
    opts: Options,
    model: str | None,
    all_models: bool,
    draws: int | None,
    seed: int,
    level: float | None,
    correlation: float | None,
) -> None:
    """Money at risk from each model's failure modes ([[risks]]): Monte Carlo.

    Expected annual loss, P50/P90/P95/P99, VaR and expected shortfall at --level, the Monte
    Carlo standard error, per model and for the portfolio; the loss-exceedance curve with
    --format json.

    \b
    Examples:
      roi scenario failure --all --seed 7
      roi scenario failure fraud-detection --draws 200000 --level 0.99
      roi scenario failure --all --correlation 0.5 --format json
    """
    from roi.scenarios import run_scenario
    from roi.scenarios.failure import FailureOptions

    options = FailureOptions(model, all_models, draws, seed, level, correlation)
    _show(opts, run_scenario(opts.context(), "failure", options))


@scenario.command()
@click.argument("model", required=False)
@click.option("--months", type=int, default=12, show_default=True, help="Months ahead.")
@LEVEL
@roi_command
def forecast(opts: Options, model: str | None, months: int, level: float | None) -> None:
    """Cost, value and net forecasts with prediction intervals and a backtest error.

    \b
    Examples:
      roi scenario forecast
      roi scenario forecast support-assistant --months 6 --level 0.9
    """
    from roi.scenarios import run_scenario
    from roi.scenarios.forecast import ForecastOptions

    options = ForecastOptions(model, months, 0.8 if level is None else level)
    _show(opts, run_scenario(opts.context(), "forecast", options))


@scenario.command()
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="DRIVER=VALUE",
    help="A driver for every model, or DRIVER[MODEL]=VALUE for one (repeatable).",
)
@MONTH
@roi_command
def whatif(opts: Options, assignments: tuple[str, ...], month: date | None) -> None:
    """Change drivers and compare cost, value, net and ROI with the baseline month.

    Drivers: gpu_price, token_price, traffic, unit_value, quantize (factors); utilization
    (a target busy share); metric_change (metric points); retire, self_host, use_api (a
    model); self_host_per_1m[MODEL] (cost per 1M tokens when self-hosting).

    \b
    Examples:
      roi scenario whatif --set gpu_price=0.8 --set traffic=2
      roi scenario whatif --set "quantize[search-ranking]=0.6"
      roi scenario whatif --set "metric_change[fraud-detection]=-2"
      roi scenario whatif --set retire=recommendations --set use_api=support-assistant
    """
    from roi.scenarios import run_scenario
    from roi.scenarios.whatif import WhatifOptions

    _show(opts, run_scenario(opts.context(), "whatif", WhatifOptions(assignments, month)))


@scenario.command()
@click.argument("model")
@click.option(
    "--range",
    "ranges",
    multiple=True,
    metavar="DRIVER=LOW:HIGH",
    help="Replace a driver's range (repeatable).",
)
@MONTH
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the chart (default: the project's reports/out).",
)
@roi_command
def sensitivity(
    opts: Options, model: str, ranges: tuple[str, ...], month: date | None, out: Path | None
) -> None:
    """ROI over each driver's low and high (the tornado), as a table and a chart.

    \b
    Examples:
      roi scenario sensitivity fraud-detection
      roi scenario sensitivity support-assistant --range gpu_price=0.5:1.5 --out charts/
    """
    from roi.scenarios import run_scenario
    from roi.scenarios.sensitivity import SensitivityOptions

    options = SensitivityOptions(model, ranges, month, out)
    _show(opts, run_scenario(opts.context(), "sensitivity", options))


@scenario.command()
@click.argument("model")
@click.option("--draws", type=int, default=10_000, show_default=True, help="Draws of the decay.")
@SEED
@LEVEL
@roi_command
def retrain(opts: Options, model: str, draws: int, seed: int, level: float | None) -> None:
    """Retraining cadence: yearly cost of decay plus retraining per policy, and the best.

    \b
    Examples:
      roi scenario retrain demand-forecast
      roi scenario retrain fraud-detection --format json
    """
    from roi.scenarios import run_scenario
    from roi.scenarios.retrain import RetrainOptions

    options = RetrainOptions(model, draws, seed, 0.9 if level is None else level)
    _show(opts, run_scenario(opts.context(), "retrain", options))
