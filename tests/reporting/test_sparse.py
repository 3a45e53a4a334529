"""Every report section on a sparse project: the public FOCUS sample in a blank project (one
model from its tags, no value, no KPIs, no GPU, no LLM usage, a last month with no cost), then
the same with one valued model. Each section renders for every month, and a table without data
says in one line what is missing and how to add it."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from roi import pipeline, warehouse
from roi.attribution.movers import keep_movers
from roi.config import ProjectConfig, load_project
from roi.context import Context
from roi.reporting.charts import Charts
from roi.reporting.data import open_report
from roi.reporting.sections import every_section
from roi.scenarios.standing import keep_standing
from roi.start.blank import write_blank
from roi.start.connect import connect
from roi.start.suggest import suggest, write_models
from tests.conftest import shared_file

SEPTEMBER, OCTOBER = date(2024, 9, 1), date(2024, 10, 1)


def _sections(project: ProjectConfig, month: date) -> dict[str, str]:
    """Every section's HTML for the month (charts left as placeholders)."""
    with warehouse.open_warehouse(project.warehouse_path, read_only=True) as con:
        [report] = [r for r in project.reports if r.kind == "monthly_finance"]
        data = open_report(con, project, report, month)
        charts = Charts()
        return {s.name: s.html(s.read(data), data, charts) for s in every_section()}


def _run_without_reports(project: ProjectConfig) -> None:
    """`roi run`'s steps up to the reports, which the tests render themselves (the whole
    report, PDF included, is made once, by the last test)."""
    ctx = Context(project)
    pipeline.load(ctx)
    pipeline.attribute(ctx)
    keep_movers(ctx, None)
    keep_standing(ctx)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> ProjectConfig:
    """A blank project with the public FOCUS sample and the model its tags suggest, run."""
    root = tmp_path_factory.mktemp("sparse") / "mine"
    write_blank(root)
    connect(Context(load_project(root)), shared_file("focus/focus-1.0-sample/focus_sample.csv"))
    ctx = Context(load_project(root))
    found = suggest(ctx)
    write_models(ctx, found, [found.models[0].value])
    project = load_project(root)
    _run_without_reports(project)
    return project


@pytest.fixture(scope="module")
def valued(blank: ProjectConfig, tmp_path_factory: pytest.TempPathFactory) -> ProjectConfig:
    """The same project with a KPI and the model valued per unit of it (no interval)."""
    root = tmp_path_factory.mktemp("valued") / "mine"
    shutil.copytree(blank.root, root, ignore=shutil.ignore_patterns("roi.duckdb*", "out"))
    kpis = root / "kpis.csv"
    kpis.write_text(
        "kpi,period_start,period_end,value,unit\n"
        "tickets,2024-09-01,2024-10-01,60,tickets\n"
        "tickets,2024-10-01,2024-11-01,70,tickets\n"
    )
    connect(Context(load_project(root)), kpis)
    [model_file] = (root / "models").glob("*.toml")
    model_file.write_text(
        model_file.read_text()
        + '\n[value]\nmethod = "per_unit"\nvolume_kpi = "tickets"\nunit_value = 2.0\n'
    )
    project = load_project(root)
    _run_without_reports(project)
    return project


@pytest.mark.parametrize("month", [SEPTEMBER, OCTOBER])
def test_every_section_renders_and_says_what_is_missing(blank: ProjectConfig, month: date) -> None:
    html = _sections(blank, month)
    assert [s.name for s in every_section()] == list(html)
    for name, part in html.items():
        assert ">None.<" not in part, name  # an empty table says what is missing
    text = {name: _text(part) for name, part in html.items()}
    assert "No GPU data: connect DCGM or OpenCost with roi connect" in text["costs"]
    assert "No shared pools" in text["costs"]
    assert "No LLM usage this month" in text["unit_economics"]
    assert "No failure modes declared: add [[risks]]" in text["risk"]
    assert "No budgets: set [options.budgets] total (and per model) in reports/" in text["forecast"]
    actions = text["actions"]
    assert "no GPU data: connect DCGM or OpenCost with roi connect" in actions
    assert "no LLM usage" in actions and "no model valued" in actions
    summary = text["summary"]
    assert "actual vs it" not in summary and "Its 1 valued models" not in summary
    assert "no model valued: give models a [value] method" in summary
    # "vs last month" only with a change; the first month has none to compare
    if month == SEPTEMBER:
        assert "no earlier month to compare" in summary and "vs last month" not in summary
    else:
        assert re.search(r"[+−][\d,]+ \([−\d.]+%\) vs last month", summary)


def test_one_month_of_history_gives_no_forecast_and_says_why(blank: ProjectConfig) -> None:
    text = _text(_sections(blank, OCTOBER)["forecast"])
    assert "No forecast: it needs at least two months of model cost, and the history has 1" in text


def test_a_lone_valued_model_reads_in_the_singular_with_no_interval(
    valued: ProjectConfig,
) -> None:
    html = _sections(valued, SEPTEMBER)
    summary = _text(html["summary"])
    assert "Its valued model earned 120 USD:" in summary, summary
    assert "interval" not in summary  # a point value has none, nor has its total
    total = re.search(r'<tr class="total">(.*?)</tr>', html["portfolio"], flags=re.S)
    assert total is not None
    assert "Portfolio (models only)" in total.group(1)
    assert "120.00 – 120.00" not in html["portfolio"]
    assert "ROI on all ML spend" in summary and "models only" in summary
    # the unit-cost table of a one-month window compares nothing with itself
    units = _text(html["unit_economics"])
    assert "BrightPathMatrix 1k tickets 266.67" in units  # 16 USD for 60 tickets
    assert "Sep 2024" not in units and "Change" not in units


def test_the_whole_report_of_a_sparse_month_renders_with_its_pdf(
    blank: ProjectConfig, tmp_path: Path
) -> None:
    [html] = pipeline.report(Context(blank), OCTOBER, tmp_path, ("monthly_finance",))
    assert html.with_suffix(".pdf").stat().st_size > 10_000
    assert "What to do" in html.read_text(encoding="utf-8")
