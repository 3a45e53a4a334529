"""The registry of report sections, the columns both renderers share, and the size limits of
the reporting package."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from roi.config import ReportConfig
from roi.config.reports import ReportOptions
from roi.errors import ConfigError
from roi.reporting import sections as registry
from roi.reporting.book import Book
from roi.reporting.columns import FORMATS, Column, Kind
from roi.reporting.html import table
from roi.reporting.numbers import MONEY, MONEY0, PERCENT
from roi.reporting.render import PACK_SHEETS
from tests.conftest import REPO

SECTIONS = (
    "summary",
    "actions",
    "portfolio",
    "costs",
    "unit_economics",
    "risk",
    "forecast",
    "unallocated",
    "quality",
)
PACK = (
    "Summary",
    "Actions",
    "Portfolio",
    "Costs",
    "Value",
    "Risk",
    "Forecast",
    "Unallocated",
    "Assumptions",
    "Lineage",
    "Data",
)


def _report(sections: tuple[str, ...] | None) -> ReportConfig:
    return ReportConfig(
        "r", "monthly_finance", "R", Path("reports/r.toml"), ReportOptions(sections)
    )


def test_every_section_module_registers_one_section_in_report_order() -> None:
    modules = [
        m.name for m in pkgutil.iter_modules(registry.__path__) if not m.name.startswith("_")
    ]
    assert sorted(modules) == sorted(SECTIONS)
    assert registry.section_names() == SECTIONS
    for section in registry.every_section():
        assert type(section).__module__ == f"roi.reporting.sections.{section.name}"
        assert section.title and section.sheet


def test_the_pack_sheets_follow_the_sections_order() -> None:
    sheets = [(s.order, s.sheet) for s in registry.every_section() if s.sheet is not None]
    assert tuple(name for _, name in sorted([*sheets, *PACK_SHEETS])) == PACK
    assert [s.name for s in registry.every_section() if s.fill_last] == ["summary"]


def test_a_report_shows_every_section_unless_it_chooses() -> None:
    assert ReportOptions().sections is None
    assert registry.report_sections(_report(None)) == registry.every_section()
    chosen = registry.report_sections(_report(("risk", "summary")))
    assert [s.name for s in chosen] == ["risk", "summary"]  # the report's order


def test_an_unknown_section_names_the_file_and_the_sections_there_are() -> None:
    with pytest.raises(ConfigError) as error:
        registry.report_sections(_report(("summary", "summry")))
    assert str(error.value) == (
        "reports/r.toml: key 'options.sections' names unknown section(s) summry; "
        "sections: " + ", ".join(SECTIONS)
    )


def test_two_sections_of_one_name_are_refused() -> None:
    class Twin(registry.Section[None]):
        name = "summary"
        title = "Twin"
        order = 15

        def read(self, data: Any) -> None:
            return None

        def html(self, figures: None, data: Any, charts: Any) -> str:
            return ""

        def excel(self, figures: None, data: Any, book: Any) -> None:
            return None

    registry.every_section()
    with pytest.raises(ValueError, match="two report sections are named 'summary'"):
        registry.register(Twin)


def test_every_kind_of_column_has_a_format() -> None:
    from typing import get_args

    assert set(FORMATS) == set(get_args(Kind))


COLUMNS = [
    Column("model_id", "Model id", only="excel"),
    Column("label", "Model"),
    Column("resource_id", "Resource", "id"),
    Column("cost", "Cost (USD)", "money", excel_header="Cost"),
    Column("lines", "Lines", "count"),
    Column("share", "Share", "percent"),
    Column("badge", "Flags", "html"),
]
ROWS = [
    {
        "model_id": "m1",
        "label": "<Model>",
        "resource_id": "r-1",
        "cost": -1234.5,
        "lines": 3,
        "share": 0.25,
        "badge": '<span class="flag">idle</span>',
    }
]


def test_the_html_table_shows_the_page_columns_as_their_kinds_read() -> None:
    html = table(ROWS, COLUMNS, {"label": "Total", "cost": "1.00"})
    assert "Model id" not in html and "m1" not in html
    assert (
        '<th class="">Model</th><th class="">Resource</th><th class="num">Cost (USD)</th>'
        '<th class="num">Lines</th><th class="num">Share</th><th class="">Flags</th>'
    ) in html
    assert '<td class="">&lt;Model&gt;</td><td class="id">r-1</td>' in html
    assert (
        '<td class="num neg">−1,234.50</td><td class="num">3</td><td class="num">25.0%</td>' in html
    )
    assert '<td><span class="flag">idle</span></td>' in html
    assert '<tr class="total"><td class="">Total</td><td class=""></td><td class="num">1.00' in html
    assert table([], COLUMNS) == '<p class="note">None.</p>'


def test_the_pack_table_shows_the_pack_columns_with_their_formats(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    book = Book(path, {}, {})
    sheet = book.sheet("T")
    refs = sheet.table(0, 0, "T", COLUMNS, ROWS)
    book.close()
    assert list(refs) == ["model_id", "label", "resource_id", "cost", "lines", "share"]
    ws = openpyxl.load_workbook(path)["T"]
    assert [c.value for c in ws[1]] == ["Model id", "Model", "Resource", "Cost", "Lines", "Share"]
    values = [c.value for c in ws[2]]
    assert values == ["m1", "<Model>", "r-1", -1234.5, 3, 0.25]
    assert [c.number_format for c in ws[2]][3:] == [MONEY, MONEY0, PERCENT]


def _long(path: Path) -> list[str]:
    """The functions of a module longer than 80 lines."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > 80:
                out.append(f"{path.name}:{node.name} ({lines} lines)")
    return out


def test_no_reporting_module_over_400_lines_or_function_over_80() -> None:
    files = sorted((REPO / "roi/reporting").rglob("*.py"))
    assert [f.name for f in files if len(f.read_text().splitlines()) > 400] == []
    assert [long for f in files for long in _long(f)] == []
