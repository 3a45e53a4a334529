"""The "What to do" section on the sample: the top actions by money, each figure reproduced by
running the very command the report prints (on a copy of the project)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from roi import warehouse
from roi.config import ProjectConfig
from roi.reporting.charts import Charts
from roi.reporting.data import open_report
from roi.reporting.sections._actions_figures import TOP_ACTIONS, TOP_PER_KIND, Action
from roi.reporting.sections.actions import Actions, Figures


@pytest.fixture(scope="module")
def figures(loaded_project: ProjectConfig) -> Iterator[tuple[Figures, str]]:
    [report] = [r for r in loaded_project.reports if r.kind == "monthly_finance"]
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        data = open_report(con, loaded_project, report, None)
        section = Actions()
        found = section.read(data)
        yield found, section.html(found, data, Charts())


@pytest.fixture(scope="module")
def copy(loaded_project: ProjectConfig, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the loaded sample project: the commands store scenario runs."""
    root = tmp_path_factory.mktemp("actions") / "project"
    shutil.copytree(loaded_project.root, root, ignore=shutil.ignore_patterns("out"))
    return root


def _run(command: str, root: Path) -> Any:
    """Run a command the report prints, as JSON, in the project copy."""
    words = shlex.split(command)
    assert words[0] == "roi"
    done = subprocess.run(
        [sys.executable, "-m", "roi", *words[1:], "--format", "json", "-q"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def _money(value: Any) -> float:
    return float(str(value))


def _of(found: Figures, kind: str) -> list[Action]:
    return [a for a in found.actions if a.kind == kind]


def test_the_top_actions_are_ordered_by_money_and_cover_every_kind(
    figures: tuple[Figures, str],
) -> None:
    found, html = figures
    amounts = [a.amount for a in found.actions]
    assert amounts == sorted(amounts, reverse=True) and len(amounts) <= TOP_ACTIONS
    assert {a.kind for a in found.actions} == {"llm", "retire", "retrain", "idle", "tag"}
    assert all(len(_of(found, k)) <= TOP_PER_KIND for k in ("llm", "retrain"))
    assert not found.missing  # the sample has LLM usage, GPUs, values and metrics
    for action in found.actions:
        assert action.command.startswith("roi ") and action.amount > 0
    assert "roi scenario whatif --set use_api=support-assistant --month 2026-10" in html
    assert "1,226.50" in html


def test_switching_to_the_api_is_what_its_whatif_says(
    figures: tuple[Figures, str], copy: Path
) -> None:
    [action] = [a for a in _of(figures[0], "llm") if "use_api=support-assistant" in a.command]
    out = _run(action.command, copy)
    rows = out["outputs"]["rows"]
    [total] = [r for r in rows if r["model_id"] == "PORTFOLIO"]
    assert action.amount == pytest.approx(_money(total["net_change"]), abs=0.005)
    assert action.amount == pytest.approx(1226.50, abs=0.01)
    [model] = [r for r in rows if r["model_id"] == "support-assistant"]
    assert f"{_money(model['roi']):.0%}" in action.what  # ROI 53% → 260%
    assert f"{_money(model['scenario_roi']):.0%}" in action.what


@pytest.mark.slow
def test_retirement_and_retraining_are_what_their_scenarios_say(
    figures: tuple[Figures, str], copy: Path
) -> None:
    for action in _of(figures[0], "retire"):
        [total] = [
            r for r in _run(action.command, copy)["outputs"]["rows"] if r["model_id"] == "PORTFOLIO"
        ]
        assert action.amount == pytest.approx(_money(total["net_change"]), abs=0.005)
    for action in _of(figures[0], "retrain"):
        out = _run(action.command, copy)["outputs"]
        assert action.amount == pytest.approx(_money(out["margin_over_today"]) / 12, abs=0.005)
        assert out["best_policy"] in action.what


def test_idle_capacity_and_tagging_are_what_their_queries_say(
    figures: tuple[Figures, str], copy: Path
) -> None:
    [idle] = _of(figures[0], "idle")
    rows = _run(idle.command, copy)
    [pool] = [r for r in rows if r["rule_id"].removeprefix("pool:") in idle.what]
    assert idle.amount == pytest.approx(_money(pool["idle_cost"]), abs=0.005)
    [tag] = _of(figures[0], "tag")
    rows = _run(tag.command, copy)
    assert tag.amount == pytest.approx(sum(_money(r["cost"]) for r in rows), abs=0.005)
    assert all(r["resource_id"] in tag.what for r in rows)
