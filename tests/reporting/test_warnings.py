"""Many warnings of one kind (a 200-model portfolio whose new models match no cost yet) keep
the report's first page one page, and the PDF a report, not a listing: the summary lists the
first few and points to the Data quality section, which lists every one (cut in print)."""

from __future__ import annotations

import re
from pathlib import Path

from roi.config import ProjectConfig, load_project
from roi.reporting.charts import PRINT_ROWS, Charts, for_print
from roi.reporting.data import open_report
from roi.reporting.render import DEFAULT_REPORTS
from roi.reporting.sections import every_section
from roi.reporting.sections.summary import FRONT_WARNINGS
from roi.warehouse import connect
from tests.helpers import copy_loaded

NEW_MODELS = 40  # more than the PDF lists


def _new_models(root: Path) -> list[str]:
    """Models whose selectors match nothing in the sample's bills: one warning each."""
    ids = [f"new-model-{n:02d}" for n in range(NEW_MODELS)]
    for model_id in ids:
        (root / "models" / f"{model_id}.toml").write_text(
            f'model_id = "{model_id}"\nname = "New model {model_id[-2:]}"\n'
            'owner = "ops@example.com"\nbusiness_unit = "Ops"\ndomain = "ops"\nstage = "production"\n'
            f'[selectors]\ntags = {{ "ml-model" = ["{model_id}"] }}\n'
        )
    return ids


def _sections_html(project: ProjectConfig) -> dict[str, str]:
    chosen = {s.name: s for s in every_section() if s.name in ("summary", "quality")}
    with connect(project.warehouse_path, read_only=True) as con:
        data = open_report(con, project, DEFAULT_REPORTS[0], None)
        return {
            name: section.html(section.read(data), data, Charts())
            for name, section in chosen.items()
        }


def test_the_summary_lists_a_few_warnings_and_quality_every_one(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    root = copy_loaded(loaded_project, tmp_path / "portfolio")
    ids = _new_models(root)
    html = _sections_html(load_project(root))
    summary_items = re.findall(r"<li>(.*?)</li>", html["summary"], flags=re.S)
    quality_items = re.findall(r"<li>(.*?)</li>", html["quality"], flags=re.S)
    named = [i for i in ids if any(f"model {i} " in item for item in quality_items)]
    assert named == ids  # the Data quality section lists every one
    warnings = len(quality_items)
    assert f"{warnings} warning(s)" in html["summary"]
    assert len(summary_items) == FRONT_WARNINGS + 1
    assert summary_items[-1] == (
        f'… and {warnings - FRONT_WARNINGS:,} more: <a href="#quality">Data quality</a> lists '
        "every one"
    )
    printed = for_print(html["quality"], {})
    assert len(re.findall(r"<li>", printed)) == PRINT_ROWS
    assert f"… {warnings - PRINT_ROWS:,} more: every one is in the HTML report" in printed


def test_a_short_list_prints_whole() -> None:
    items = "".join(f"<li>warning {n}</li>" for n in range(PRINT_ROWS))
    page = f"<div><ul>{items}</ul></div>"
    assert for_print(page, {}) == page
