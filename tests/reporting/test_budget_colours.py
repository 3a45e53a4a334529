"""Budget colours: over budget is the warning colour, under budget is not, in the HTML report
and in the Excel pack; a rounded zero is never red."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from roi import warehouse
from roi.config import ProjectConfig
from roi.reporting.columns import Column
from roi.reporting.html import table
from roi.value.portfolio import portfolio

WARN_FONT = "FFB42318"
MONTH = date(2026, 10, 1)


def _expected(project: ProjectConfig) -> dict[str, float]:
    """Budget line → actual − budget, from the warehouse and the report's budgets."""
    [report] = [r for r in project.reports if r.kind == "monthly_finance"]
    with warehouse.open_warehouse(project.warehouse_path, read_only=True) as con:
        costs = portfolio(con, MONTH)
        spend = warehouse.fetch_one(
            con,
            "SELECT sum(effective_cost)::DOUBLE FROM cost_lines WHERE "
            "charge_period_start >= ? AND charge_period_start < ?",
            [MONTH, date(2026, 11, 1)],
        )[0]
        usage = warehouse.fetch_one(
            con, "SELECT coalesce(sum(amount), 0)::DOUBLE FROM usage_costs WHERE month = ?", [MONTH]
        )[0]
    out = {}
    for key, budget in report.options.budgets.items():
        actual = (
            spend + usage
            if key == "total"
            else costs.filter(pl.col("model_id") == key)["cost"].sum()
        )
        out[key] = float(actual) - float(budget)
    return out


@pytest.fixture(scope="module")
def outputs(loaded_reports: dict[str, Path]) -> dict[str, Path]:
    """The report and the pack `roi run` wrote for the sample's latest month (`MONTH`)."""
    assert loaded_reports[".html"].stem.endswith(f"{MONTH:%Y-%m}")
    return loaded_reports


def test_the_sample_has_budgets_over_and_under(loaded_project: ProjectConfig) -> None:
    variance = _expected(loaded_project)
    assert variance["recommendations"] > 0 and variance["total"] < 0
    assert variance["fraud-detection"] < 0


def test_over_budget_cells_carry_the_warning_class_in_html(
    loaded_project: ProjectConfig, outputs: dict[str, Path]
) -> None:
    html = outputs[".html"].read_text(encoding="utf-8")
    budgets = html[html.index("Budget vs actual") :]
    budgets = budgets[: budgets.index("</table>")]
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td>(.*?)</tr>", budgets)
    labels = {"total": "ML spend (all)", "recommendations": "Product recommendations"}
    labels["fraud-detection"] = "Card fraud detector"
    cells = {label: re.findall(r'<td class="([^"]*)">([^<]*)</td>', rest) for label, rest in rows}
    for key, variance in _expected(loaded_project).items():
        (_, _), (_, _), money, share = cells[labels[key]]
        over = variance > 0.005
        assert ("over-budget" in money[0]) is over, (key, money)
        assert ("over-budget" in share[0]) is over, (key, share)
        assert "neg" not in money[0] and "neg" not in share[0]  # under budget is not red
        assert money[1].startswith("+" if over else "−"), money


def test_over_budget_cells_carry_the_warning_format_in_the_pack(
    loaded_project: ProjectConfig, outputs: dict[str, Path]
) -> None:
    book = openpyxl.load_workbook(outputs[".xlsx"])
    sheet = book["Forecast"]
    header = next(r for r in sheet.iter_rows() if r[0].value == "Budget line")
    col = {c.value: c.column - 1 for c in header}
    labels = {"ML spend (all)": "total", "Product recommendations": "recommendations"}
    labels["Card fraud detector"] = "fraud-detection"
    expected = _expected(loaded_project)
    seen = set()
    for row in sheet.iter_rows(min_row=header[0].row + 1):
        if row[0].value not in labels:
            continue
        key = labels[str(row[0].value)]
        over = expected[key] > 0.005
        for name in ("Actual − budget", "Variance"):
            cell = row[col[name]]
            assert (cell.font.color is not None and cell.font.color.rgb == WARN_FONT) is over, (
                key,
                name,
            )
            assert "[Red]" not in cell.number_format
        seen.add(key)
    assert seen == set(expected)
    # Excel recolours live: a rule for over (warning) and one for on or under (plain).
    rules = [r for cf in sheet.conditional_formatting for r in cf.rules]
    assert {r.operator for r in rules} >= {"greaterThan", "lessThanOrEqual"}
    summary = book["Summary"]
    [variance] = [r[1] for r in summary.iter_rows() if r[0].value == "Actual − budget"]
    assert expected["total"] < 0 and (
        variance.font.color is None or variance.font.color.rgb != WARN_FONT
    )
    assert "[Red]" not in variance.number_format


def test_a_rounded_zero_is_neither_red_nor_over() -> None:
    rows = [{"share": -0.00001, "variance": -0.001, "over": 0.004, "change": -0.0004}]
    html = table(
        rows,
        [
            Column("share", "Share", "percent"),
            Column("variance", "Variance", "variance_share"),
            Column("over", "Over", "variance"),
            Column("change", "Change", "money"),
        ],
    )
    cells = re.findall(r'<td class="([^"]*)">([^<]*)</td>', html)
    assert cells == [("num", "0.0%"), ("num", "−0.1%"), ("num", "0.00"), ("num", "0.00")]
