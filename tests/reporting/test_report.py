"""The monthly HTML report: self-contained, renders in headless Chromium with no console
errors and no network requests, its tiles equal the warehouse, its charts come as PNG and SVG
files too, and it is also a PDF."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import polars as pl
import pytest
from PIL import Image
from pypdf import PdfReader

from roi import pipeline
from roi.config import ProjectConfig, load_project
from roi.context import Context
from roi.errors import ConfigError
from tests.conftest import REPO
from tests.helpers import copy_loaded, number, of_type
from tests.services import chromium_run

pytestmark = pytest.mark.service

# Hosts Chromium itself calls at start (sign-in, component updates), never the page.
BROWSER_HOSTS = re.compile(r"^https?://([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com)/")
ARTIFACTS = Path(os.environ.get("ROI_TEST_ARTIFACTS", REPO / ".test-artifacts"))


def _one(config: ProjectConfig, sql: str) -> object:
    return pipeline.query(Context.for_warehouse(config.warehouse_path), sql).item()


def _whole(value: float | Decimal) -> str:
    return f"{round(float(value)):,}"


@pytest.fixture(scope="module")
def rendered(loaded_reports: dict[str, Path]) -> Path:
    """The HTML report `roi run` wrote for the sample's latest month."""
    return loaded_reports[".html"]


def test_the_report_renders_offline_with_no_console_errors_or_requests(
    rendered: Path, tmp_path: Path
) -> None:
    text = rendered.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//|<script|@import|url\(""", text)
    net = tmp_path / "net.json"
    run = chromium_run(
        rendered,
        tmp_path,
        "--enable-logging=stderr",
        "--v=0",
        f"--log-net-log={net}",
        "--dump-dom",
    )
    assert "CONSOLE" not in run.stderr, run.stderr
    urls = {
        e["params"]["url"]
        for e in json.loads(net.read_text())["events"]
        if "url" in e.get("params", {})
    }
    page = {u for u in urls if not BROWSER_HOSTS.match(u)}
    assert page <= {rendered.resolve().as_uri()}, page
    assert run.stdout.count("<svg") >= 8  # the charts and the sparklines, inline
    shot = ARTIFACTS / "report_first_screen.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    chromium_run(rendered, tmp_path, f"--screenshot={shot}", "--window-size=1280,1000")
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1000) and len(image.getcolors(1_000_000) or []) > 100


def test_summary_tiles_equal_the_warehouse(
    loaded_project: ProjectConfig, rendered: Path, tmp_path: Path
) -> None:
    dom = chromium_run(rendered, tmp_path, "--dump-dom").stdout
    tiles = dict(re.findall(r'<div class="label">(.*?)</div><div class="value">(.*?)</div>', dom))
    source = of_type(
        _one(
            loaded_project,
            "SELECT sum(effective_cost) FROM cost_lines WHERE billing_period_start = '2026-10-01'",
        ),
        Decimal,
    )
    usage = of_type(
        _one(
            loaded_project,
            "SELECT coalesce(sum(amount), 0) FROM usage_costs WHERE month = '2026-10-01'",
        ),
        Decimal,
    )
    value = number(
        _one(loaded_project, "SELECT sum(value) FROM model_value WHERE month = '2026-10-01'")
    )
    spend = source + usage
    assert tiles["ML spend"] == f"{_whole(spend)} USD"
    assert tiles["Measured value"] == f"{_whole(value)} USD"
    net = float(value) - float(spend)
    # One headline: net and ROI over all ML spend, the models-only ROI beside it with the
    # unallocated and idle cost that makes the difference.
    assert tiles["Net (all ML spend)"] == f"{_whole(net)} USD"
    assert tiles["ROI on all ML spend"] == f"{net / float(spend):.0%}"
    total = pipeline.portfolio(Context(loaded_project), date(2026, 10, 1)).filter(
        pl.col("model_id") == "TOTAL"
    )
    models_only, model_cost = total["roi"].item(), total["cost"].item()
    subs = dict(
        re.findall(
            r'<div class="label">(.*?)</div><div class="value">.*?</div>'
            r'<div class="sub">(.*?)</div>',
            dom,
        )
    )
    assert subs["ROI on all ML spend"] == (
        f"models only {models_only:.0%}; the difference is the "
        f"{_whole(float(spend) - model_cost)} USD of unallocated and idle cost"
    )
    assert tiles["Budget"] == "28,000 USD"  # reports/monthly_finance.toml [options.budgets]
    eal = json.loads(
        str(
            _one(
                loaded_project,
                "SELECT outputs FROM scenario_runs WHERE command = 'failure --all' ORDER BY created_at DESC LIMIT 1",
            )
        )
    )
    assert (
        tiles["Expected annual loss"] == f"{_whole(eal['portfolio']['expected_annual_loss'])} USD"
    )
    run_id = _one(
        loaded_project,
        "SELECT run_id FROM scenario_runs WHERE command = 'failure --all' ORDER BY created_at DESC LIMIT 1",
    )
    assert f"run {run_id}" in dom  # the risk figures cite their scenario run
    for model in loaded_project.models:
        assert model.name in dom  # full names, nowhere cut
    assert "Biggest movers:" in dom and "All checks passed" in dom


def test_every_chart_is_also_a_png_and_an_svg_file(rendered: Path) -> None:
    folder = rendered.with_name(rendered.stem + "_charts")
    pngs = sorted(folder.glob("*.png"))
    assert {p.stem for p in pngs} >= {
        "cost_trend",
        "cost_by_model",
        "loss_exceedance",
        "forecast_net",
    }
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        svg = png.with_suffix(".svg")
        assert ElementTree.fromstring(svg.read_text(encoding="utf-8")).tag.endswith("svg")
        assert not re.search(r"\d(\.\d+)?G<", svg.read_text())  # no SI "G" on currency axes


@pytest.mark.slow
def test_the_report_is_also_a_pdf(loaded_project: ProjectConfig, rendered: Path) -> None:
    pdf = PdfReader(rendered.with_suffix(".pdf"))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert len(pdf.pages) >= 3
    assert "Summary" in text and "Portfolio" in text and "Data quality and lineage" in text
    assert "Card fraud detector" in text


@pytest.mark.slow
def test_a_report_variant_chooses_its_sections_months_and_models(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    project = copy_loaded(loaded_project, tmp_path / "project")
    (project / "reports/cfo.toml").write_text(
        'kind = "monthly_finance"\ntitle = "CFO one-pager"\n\n[options]\n'
        'sections = ["summary", "portfolio"]\ntrend_months = 24\n'
        'models = ["fraud-detection", "credit-scoring"]\npdf = false\n'
    )
    config = load_project(project)
    paths = pipeline.report(Context(config), None, tmp_path / "out", ("monthly_finance",))
    cfo = next(p for p in paths if p.name.startswith("cfo_"))
    html = cfo.read_text()
    assert (
        html.count("<section") == 2
        and "Card fraud detector" in html
        and "SME credit scorecard" in html
    )
    assert "Product recommendations" not in html
    assert html.count("<polyline") == 2 and not cfo.with_suffix(".pdf").exists()
    (project / "reports/cfo.toml").write_text(
        'kind = "monthly_finance"\ntitle = "x"\n[options]\nsections = ["summry"]\n'
    )
    # Section names are checked against the registry of sections when the reports render,
    # before any report is written.
    with pytest.raises(
        ConfigError, match=r"cfo.toml: key 'options.sections' names unknown section\(s\) summry"
    ):
        pipeline.report(Context(load_project(project)), None, tmp_path / "typo")
    assert not (tmp_path / "typo").exists()
    (project / "reports/cfo.toml").write_text(
        'kind = "monthly_finance"\ntitle = "x"\n[options.budgets]\nnobody = 5\n'
    )
    # A budget for a model the project no longer defines is a warning, not a failure.
    paths = pipeline.report(Context(load_project(project)), None, tmp_path / "gone")
    html = next(p for p in paths if p.name.startswith("cfo_")).read_text()
    assert "cfo.toml names model(s) the project does not define: nobody" in html


def test_the_portfolio_section_has_value_roi_payback_flags_and_sparklines(
    loaded_project: ProjectConfig, rendered: Path
) -> None:
    from datetime import date

    html = rendered.read_text()
    section = html[html.index('<section id="portfolio"') :]
    section = section[: section.index("</section>")]
    view = pipeline.portfolio(Context(loaded_project), date(2026, 10, 1))
    for row in view.iter_rows(named=True):
        if row["model_id"] == "TOTAL":
            assert "Portfolio" in section and f"{abs(row['net']):,.2f}" in section
            continue
        assert row["name"] in section
        if row["value"] is not None:
            assert f"{abs(row['value']):,.2f}" in section
            assert f"{row['roi']:.0%}".replace("-", "−") in section
        if row["payback_month"] is not None:
            assert f"{row['payback_month']:%Y-%m}" in section
    # Every model has a net line, the retired one too (its cost after retirement is a loss).
    assert section.count("<polyline") == len(loaded_project.models)
    assert "high exposure" in section and "retired but still costing" in section
    # IRR: a rate only for flows that start negative, else n/a with the reason (the sample's
    # models all start with a positive net).
    assert "IRR (horizon)" in section
    assert 'n/a<br><span class="note">the flows do not start negative' in section
    assert 'n/a<br><span class="note">the flows never turn positive' in section


def test_selector_conflicts_are_listed_for_the_platform_lead(
    loaded_project: ProjectConfig, rendered: Path
) -> None:
    html = rendered.read_text()
    section = html[html.index('<section id="quality"') :]
    conflicts = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT resource_id FROM attribution_conflicts WHERE month = '2026-10-01'",
    )["resource_id"].to_list()
    assert conflicts and "Selector conflicts" in section
    assert all(r in section for r in conflicts if r)
