"""The month's largest movers: found from the allocated costs, explained once by the monthly
job and kept for the reports while the warehouse and definitions are unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from roi import warehouse
from roi.attribution.movers import explain_movers, largest_changes, stored_movers
from roi.config import ProjectConfig
from roi.reporting.sections.summary import _why
from tests.helpers import copy_warehouse

OCTOBER, SEPTEMBER = date(2026, 10, 1), date(2026, 9, 1)


def test_the_largest_changes_are_those_the_allocated_costs_show(
    loaded_project: ProjectConfig,
) -> None:
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        found = largest_changes(con, OCTOBER, SEPTEMBER, "USD")
        rows = warehouse.fetch_all(
            con,
            "SELECT month, model_id, sum(amount)::DOUBLE FROM allocated_costs "
            "WHERE currency = 'USD' AND month IN (?, ?) GROUP BY ALL",
            [SEPTEMBER, OCTOBER],
        )
    cost = {(m, model): amount for m, model, amount in rows}
    models = {model for _, model in cost}
    change = {
        m: cost.get((OCTOBER, m), 0.0) - cost.get((SEPTEMBER, m), 0.0)
        for m in models
        if abs(cost.get((OCTOBER, m), 0.0) - cost.get((SEPTEMBER, m), 0.0)) > 0.005
    }
    expected = sorted(change, key=lambda m: (-abs(change[m]), m))[:3]
    assert [f[0] for f in found] == expected
    for model_id, before, after in found:
        assert before == cost.get((SEPTEMBER, model_id), 0.0)
        assert after == cost.get((OCTOBER, model_id), 0.0)


def test_the_monthly_job_keeps_what_explaining_again_gives(loaded_project: ProjectConfig) -> None:
    """`roi run` explained October's movers once; the report reads them instead of
    re-attributing two months: the same movers, effects and items."""
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        kept = stored_movers(con, loaded_project, OCTOBER, SEPTEMBER, "USD")
        again = explain_movers(con, loaded_project, OCTOBER, SEPTEMBER, "USD")
    assert kept is not None and len(kept) == 3
    assert kept == again
    assert all(m.failure is None and m.effects for m in kept)
    for moved in kept:  # the effects named are the largest, largest first
        sizes = [abs(amount) for _, amount in moved.effects]
        assert sizes == sorted(sizes, reverse=True)


def test_nothing_kept_is_used_once_the_inputs_changed(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    copy = copy_warehouse(loaded_project.warehouse_path, tmp_path)
    with warehouse.open_warehouse(copy) as con:
        assert stored_movers(con, loaded_project, OCTOBER, SEPTEMBER, "EUR") is None
        assert stored_movers(con, loaded_project, SEPTEMBER, date(2026, 8, 1), "USD") is None
        con.execute("UPDATE _reuse SET inputs_key = 'other' WHERE product LIKE 'movers:%'")
        assert stored_movers(con, loaded_project, OCTOBER, SEPTEMBER, "USD") is None


def test_a_mover_that_cannot_be_explained_is_named_without_a_breakdown(
    loaded_project: ProjectConfig,
) -> None:
    """Explaining needs the model's definition: without one the mover is still named, with
    why there is no breakdown, and the report goes on."""
    without_models = replace(loaded_project, models=())
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        found = explain_movers(con, without_models, OCTOBER, SEPTEMBER, "USD")
        changes = largest_changes(con, OCTOBER, SEPTEMBER, "USD")
    assert [(m.model_id, m.before, m.after) for m in found] == changes
    portfolio = [m for m in found if not m.model_id.startswith("__")]
    assert portfolio, "the sample's largest movers include a portfolio model"
    for moved in portfolio:
        assert moved.effects == () and moved.failure is not None
        assert _why(moved) == f"no breakdown: {moved.failure}"
        assert moved.model_id in moved.failure


def test_an_explanation_that_failed_is_not_kept(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    """A failed explanation (here: no model definitions) is not kept: the report tries again."""
    from roi.attribution.movers import keep_movers
    from roi.config import load_project
    from roi.context import Context
    from tests.helpers import copy_loaded

    root = copy_loaded(loaded_project, tmp_path / "project")
    project = load_project(root)
    with warehouse.open_warehouse(project.warehouse_path) as con:
        con.execute("DELETE FROM _reuse WHERE product LIKE 'movers:%'")
    keep_movers(Context(replace(project, models=())))
    with warehouse.open_warehouse(project.warehouse_path, read_only=True) as con:
        assert stored_movers(con, project, OCTOBER, SEPTEMBER, "USD") is None
    keep_movers(Context(project))
    with warehouse.open_warehouse(project.warehouse_path, read_only=True) as con:
        kept = stored_movers(con, project, OCTOBER, SEPTEMBER, "USD")
    assert kept is not None and all(m.failure is None for m in kept)
