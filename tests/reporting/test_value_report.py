"""Value, net, ROI and NPV in the report and the pack: live formulas that LibreOffice recalculates
to roi's own figures, and that follow a changed assumption."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from roi import pipeline
from roi.config import ProjectConfig
from roi.context import Context
from roi.value.pnl import excel_npv, monthly_rate
from tests.services import chromium_run, libreoffice_convert

pytestmark = pytest.mark.service


def _roi(config: ProjectConfig, month: str) -> dict[str, dict[str, object]]:
    frame = pipeline.query(
        config.warehouse_path, f"SELECT * FROM model_roi WHERE month = '{month}'"
    )
    return {r["model_id"]: r for r in frame.iter_rows(named=True)}


def _rows(sheet: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, list[object]]:
    return {
        str(row[0]): list(row) for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]
    }


def test_value_and_roi_formulas_recalculate_to_roi_and_follow_the_discount_rate(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    [xlsx] = pipeline.report(Context(loaded_project), date(2026, 10, 1), tmp_path, ("excel_pack",))
    raw = openpyxl.load_workbook(xlsx)
    sheet = raw["Value and ROI"]
    first = _rows(sheet)["churn-prediction"]
    assert str(first[9]).startswith("=IF(") and "NPV(monthly_rate," in str(first[12])
    recalculated = openpyxl.load_workbook(
        libreoffice_convert(xlsx, "xlsx", tmp_path / "lo"), data_only=True
    )
    expected = _roi(loaded_project, "2026-10-01")
    rows = _rows(recalculated["Value and ROI"])
    checked = 0
    for model_id, want in expected.items():
        got = rows[model_id]
        if want["value"] is None:
            assert got[9] in (None, "")
            continue
        assert got[9] == pytest.approx(want["net"], rel=1e-9, abs=1e-6)
        assert got[10] == pytest.approx(want["roi"], rel=1e-9)
        assert got[12] == pytest.approx(want["npv"], rel=1e-9)  # NPV to date, Excel's NPV
        checked += 1
    assert checked >= 10
    total = (
        rows["Portfolio"]
        if "Portfolio" in rows
        else next(
            r
            for r in recalculated["Value and ROI"].iter_rows(values_only=True)
            if r[1] == "Portfolio"
        )
    )
    view = pipeline.portfolio(Context(loaded_project), date(2026, 10, 1))
    portfolio = view.filter(pl.col("model_id") == "TOTAL").row(0, named=True)
    assert total[9] == pytest.approx(portfolio["net"], rel=1e-9)

    # An analyst raises the discount rate on the Assumptions sheet: every NPV follows.
    raw["Assumptions"]["B3"].value = 0.25
    changed = tmp_path / "changed.xlsx"
    raw.save(changed)
    again = _rows(
        openpyxl.load_workbook(
            libreoffice_convert(changed, "xlsx", tmp_path / "lo2"), data_only=True
        )["Value and ROI"]
    )
    history = pipeline.query(
        loaded_project.warehouse_path,
        "SELECT model_id, month, net FROM model_roi WHERE month <= '2026-10-01' ORDER BY month",
    )
    rate = monthly_rate(0.25)
    for model_id in ("fraud-detection", "recommendations"):
        nets = history.filter((pl.col("model_id") == model_id) & pl.col("net").is_not_null())["net"]
        assert again[model_id][12] == pytest.approx(excel_npv(rate, nets.to_list()), rel=1e-9)
        assert again[model_id][12] != pytest.approx(rows[model_id][12], rel=1e-3)


def test_report_shows_value_net_roi_and_payback(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    [html] = pipeline.report(Context(loaded_project), None, tmp_path, ("monthly_finance",))
    dom = chromium_run(html, tmp_path, "--dump-dom").stdout
    section = dom[dom.index('<div id="value">') :]
    section = section[: section.index("</table>")]
    view = pipeline.portfolio(Context(loaded_project), date(2026, 10, 1))
    for row in view.iter_rows(named=True):
        if row["model_id"] == "TOTAL":
            assert "Portfolio" in section and f"{abs(row['net']):,.2f}" in section
            continue
        assert row["name"] in section
        if row["value"] is not None:
            assert (
                f"{abs(row['value']):,.2f}" in section
                and f"{row['roi']:.0%}".replace("-", "−") in section
            )
        if row["payback_month"] is not None:
            assert f"{row['payback_month']:%Y-%m}" in section
