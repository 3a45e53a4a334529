"""Nothing changed, nothing recomputed: a second `roi run` reuses the value tables, the
standing scenario runs and the reports; a changed input recomputes what depends on it."""

from __future__ import annotations

import os
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from roi import pipeline, warehouse
from roi.config import ProjectConfig, load_project
from roi.context import Context
from tests.attribution.test_incremental import _reissue_september

pytestmark = pytest.mark.slow  # four runs of the sample project after the loaded one


def _reuse(path: Path) -> dict[str, tuple[Any, ...]]:
    with warehouse.open_warehouse(path, read_only=True) as con:
        rows = warehouse.fetch_all(
            con, "SELECT product, inputs_key, result, updated_at FROM _reuse"
        )
    return {str(r[0]): tuple(r[1:]) for r in rows}


def _stored_runs(path: Path) -> set[tuple[Any, ...]]:
    with warehouse.open_warehouse(path, read_only=True) as con:
        return set(warehouse.fetch_all(con, "SELECT run_id, created_at FROM scenario_runs"))


def _mtimes(paths: list[Path]) -> list[int]:
    return [os.stat(p).st_mtime_ns for p in paths]


def test_a_second_run_reuses_everything_and_a_change_recomputes_what_depends_on_it(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    # The first run: the loaded sample (`roi run` on a fresh copy), copied with its files to
    # another folder, which must not matter (paths in the reuse keys count from the project).
    shutil.copytree(loaded_project.root, tmp_path / "project")
    project = load_project(tmp_path / "project")
    reuse, runs = _reuse(project.warehouse_path), _stored_runs(project.warehouse_path)
    assert {"value", "scenario:decay", "scenario:failure", "scenario:forecast"} <= set(reuse)
    first_scenarios = [reuse[f"scenario:{kind}"][1] for kind in ("decay", "failure", "forecast")]
    # What `roi run` names: the HTML report (its PDF beside it) and the pack.
    first_outputs = sorted(
        path for path in project.reports_out.iterdir() if path.suffix in (".html", ".xlsx")
    )
    [pdf] = [path.with_suffix(".pdf") for path in first_outputs if path.suffix == ".html"]
    written = _mtimes([*first_outputs, pdf])

    again = pipeline.run(Context(load_project(project.root)))
    assert again.scenarios == first_scenarios
    assert again.attribution.months == []
    # Nothing was computed again: no row of _reuse was rewritten, no run stored, no file written.
    assert _reuse(project.warehouse_path) == reuse
    assert _stored_runs(project.warehouse_path) == runs
    assert sorted(again.outputs) == first_outputs and _mtimes([*first_outputs, pdf]) == written

    forced = pipeline.run(Context(load_project(project.root)), force=True)
    rendered = _mtimes([*sorted(forced.outputs), pdf])
    assert all(a != b for a, b in zip(rendered, written, strict=True))  # --force renders them
    assert _reuse(project.warehouse_path) == reuse  # and nothing else
    before, by_kind = (
        reuse,
        dict(zip(("decay", "failure", "forecast"), first_scenarios, strict=True)),
    )

    # A model's failure modes change: no month is attributed again; value, the scenarios and
    # the reports are; only the failure run's figures (so its id) move.
    toml = project.root / "models/fraud-detection.toml"
    toml.write_text(toml.read_text().replace("recovery_cost = 4000", "recovery_cost = 40000"))
    changed = pipeline.run(Context(load_project(project.root)))
    assert changed.attribution.months == []
    changed_files = _mtimes([*sorted(changed.outputs), pdf])
    assert all(a != b for a, b in zip(changed_files, rendered, strict=True))
    after = _reuse(project.warehouse_path)
    assert all(after[p][0] != before[p][0] for p in before)  # every key moved
    ids = dict(zip(("decay", "failure", "forecast"), changed.scenarios, strict=True))
    assert ids["failure"] != by_kind["failure"]
    assert ids["decay"] == by_kind["decay"] and ids["forecast"] == by_kind["forecast"]

    # AWS re-issues September: only September is attributed again, and the cost figures the
    # forecast reads moved, so it is a new run.
    _reissue_september(project.root, Decimal("100"))
    reissued = pipeline.run(Context(load_project(project.root)))
    assert reissued.attribution.months == [date(2026, 9, 1)]
    assert (
        dict(zip(("decay", "failure", "forecast"), reissued.scenarios, strict=True))["forecast"]
        != ids["forecast"]
    )
