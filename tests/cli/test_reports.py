"""`roi report` writes the month's reports (the HTML report, its PDF and the Excel pack) or
those named; `roi export excel` the pack alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from roi.config import ProjectConfig
from tests.cli.conftest import invoke


def _written(out: str) -> list[Path]:
    return [Path(row["output"]) for row in json.loads(out)]


def _report(project: ProjectConfig, out: Path, *options: str) -> tuple[int, str, str]:
    """`roi report` of the project into `out`, listing what it wrote as JSON."""
    root = str(project.root)
    return invoke(
        "report", "--project", root, "--out", str(out), *options, "-q", "--format", "json"
    )


@pytest.mark.slow
def test_report_writes_the_report_its_pdf_and_the_pack(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    code, out, err = _report(loaded_project, tmp_path)
    assert (code, err) == (0, "")
    html, pack = tmp_path / "monthly_finance_2026-10.html", tmp_path / "executive_pack_2026-10.xlsx"
    assert _written(out) == [html, pack]
    assert html.with_suffix(".pdf").read_bytes().startswith(b"%PDF-")
    alone = tmp_path / "alone.xlsx"
    root = str(loaded_project.root)
    code, _, err = invoke("export", "excel", "--project", root, "--out", str(alone), "--quiet")
    assert (code, err) == (0, "")
    together, by_itself = load_workbook(pack), load_workbook(alone)
    assert together.sheetnames == by_itself.sheetnames
    for name in ("Portfolio", "Data"):
        assert [list(r) for r in together[name].values] == [list(r) for r in by_itself[name].values]


def test_report_only_names_the_reports_it_writes(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    code, out, err = _report(loaded_project, tmp_path, "--only", "nope")
    assert (code, out) == (1, "")
    assert err == (
        "Error: no report named 'nope'; the project's reports: executive_pack, monthly_finance\n"
    )
    assert list(tmp_path.iterdir()) == []
    code, out, err = _report(loaded_project, tmp_path, "--only", "executive_pack")
    assert (code, err) == (0, "")
    assert _written(out) == [tmp_path / "executive_pack_2026-10.xlsx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".executive_pack_2026-10.xlsx.inputs",  # the inputs it was made from
        "executive_pack_2026-10.xlsx",
    ]
