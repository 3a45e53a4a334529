"""The standing scenarios: the runs the monthly job (`roi run`) keeps current.

A standing scenario asked for by hand with the options the monthly job uses (`roi scenario
decay --all`, `roi scenario forecast`, …) is kept as the monthly run too: `roi run` and the
reports reuse it while the warehouse and definitions are as it read them.
"""

from __future__ import annotations

from typing import Any

from roi import warehouse
from roi.context import Context
from roi.reuse import inputs_key, remember, reusable
from roi.scenarios import kinds
from roi.scenarios.runs import ScenarioRun


def keep_standing(ctx: Context) -> list[str]:
    """The scenarios the monthly job keeps current (each kind's `monthly` options: decay and
    the 12-month forecast of every model, failure exposure where models have failure modes);
    their run ids. None without a P&L."""
    standing = {
        name: options
        for name, kind in kinds().items()
        if (options := kind.monthly(ctx.project)) is not None
    }
    with ctx.reader() as con:
        if not warehouse.fetch_one(con, "SELECT count(*) FROM model_roi")[0]:
            return []
        keys = {name: inputs_key(con, ctx.project, "scenario", o) for name, o in standing.items()}
        stored = {name: reusable(con, f"scenario:{name}", key) for name, key in keys.items()}
        known = {str(r[0]) for r in warehouse.fetch_all(con, "SELECT run_id FROM scenario_runs")}
    ids = []
    for name, options in standing.items():
        run_id = stored[name]
        if run_id and run_id in known:
            ctx.progress.info(f"scenario {name}: inputs unchanged, reused run {run_id}")
        else:
            run_id = run_standing(ctx, name, options, keys[name]).run_id
            ctx.progress.info(f"scenario run {run_id}")
        ids.append(run_id)
    return ids


def run_standing(ctx: Context, name: str, options: Any, key: str | None = None) -> ScenarioRun:
    """Run scenario `name` with its monthly options and keep the run as the monthly job's,
    under the inputs as they were when it started (`key`, when the caller has it)."""
    if key is None:
        with ctx.reader() as con:
            key = inputs_key(con, ctx.project, "scenario", options)
    found = kinds()[name].run(ctx, options)
    with ctx.writing(), ctx.committing() as con:
        remember(con, f"scenario:{name}", key, found.run_id)
    return found


__all__ = ["keep_standing", "run_standing"]
