"""Scenarios: money at risk from decay and failure, forecasts, what-if, sensitivity and
retraining economics (`roi scenario ...`).

Each kind is one module holding its options (a frozen dataclass of keyword parameters) and its
run function, registered here: `decay`, `failure`, `forecast`, `whatif`, `sensitivity`,
`retrain`. They read the warehouse's attribution and value tables through `baseline` (the
figures per model a scenario starts from, each with where it came from: measured or
declared), compute with numpy and statsmodels, and store every run in `scenario_runs`
(`runs`) under an id reports can cite. Stochastic results are reproducible from `--seed`.
A kind with `monthly` options is kept current by `roi run`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from roi.plugins import import_modules

if TYPE_CHECKING:
    from roi.config import ProjectConfig
    from roi.context import Context
    from roi.scenarios.runs import ScenarioRun


@dataclass(frozen=True)
class Scenario:
    """One scenario kind: its name, options, run function, and the options `roi run` keeps it
    current with (None: not part of the monthly job, or not for this project)."""

    name: str
    options: type[Any]
    run: Callable[[Context, Any], ScenarioRun]
    monthly: Callable[[ProjectConfig], Any | None] = field(default=lambda _project: None)


_REGISTRY: dict[str, Scenario] = {}
_HELPERS = ("baseline", "draws", "runs", "standing")  # modules of this package that are not kinds


def register(scenario: Scenario) -> Scenario:
    """Add a scenario kind (its module calls this on import)."""
    _REGISTRY[scenario.name] = scenario
    return scenario


def kinds() -> Mapping[str, Scenario]:
    """Every scenario kind by name, in registration order of the package's modules."""
    import_modules(__name__, __path__, _HELPERS)
    return MappingProxyType(_REGISTRY)


def run_scenario(ctx: Context, name: str, options: Any) -> ScenarioRun:
    """Run the scenario kind `name` with its options (keyword parameters, checked by type);
    with the options `roi run` keeps it current with, the run is kept as the monthly one."""
    kind = kinds()[name]
    if not isinstance(options, kind.options):
        raise TypeError(f"scenario {name} takes {kind.options.__name__}")
    if options == kind.monthly(ctx.project):  # the monthly job's run, asked for by hand
        from roi.scenarios.standing import run_standing

        return run_standing(ctx, name, options)
    return kind.run(ctx, options)
