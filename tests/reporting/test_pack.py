"""The Excel pack: every formula stored with its value, LibreOffice recalculating to the same
values and to roi's own figures, an assumption that flows, native charts, tables, properties."""

from __future__ import annotations

import json
import math
import shutil
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy_financial as npf
import openpyxl
import polars as pl
import pytest
from pypdf import PdfReader

from roi import pipeline
from roi.config import ProjectConfig
from roi.context import Context
from roi.scenarios import run_scenario
from roi.scenarios.whatif import WhatifOptions
from roi.value.pnl import excel_npv, monthly_rate
from tests.services import libreoffice_convert

# LibreOffice recalculates the pack once for the module: slow.
pytestmark = [pytest.mark.service, pytest.mark.slow]

SHEETS = [
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
]


@pytest.fixture(scope="module")
def pack(
    loaded_project: ProjectConfig, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """(the pack as roi wrote it, the same recalculated and saved by LibreOffice)."""
    out = tmp_path_factory.mktemp("pack")
    [xlsx] = pipeline.report(Context(loaded_project), date(2026, 10, 1), out, ("excel_pack",))
    return xlsx, libreoffice_convert(xlsx, "xlsx", out / "lo")


def _copy(project: ProjectConfig, folder: Path) -> Context:
    """A context on a copy of the loaded sample warehouse, for runs that record something (a
    what-if stores its run): the shared one stays as `roi run` left it (test_snapshot.py)."""
    source = project.warehouse_path
    target = folder / source.name
    folder.mkdir(parents=True)
    shutil.copy2(source, target)
    shutil.copytree(
        source.with_name(source.name + ".data"), target.with_name(target.name + ".data")
    )
    return Context(project, target)


def _formulas(path: Path) -> list[tuple[str, str, str]]:
    book = openpyxl.load_workbook(path)
    return [
        (ws.title, c.coordinate, str(c.value))
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]


def _same(a: object, b: object) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return (a in ("", None) and b in ("", None)) or a == b


def test_every_formula_is_stored_with_the_value_libreoffice_recalculates(
    pack: tuple[Path, Path],
) -> None:
    written, recalculated = pack
    stored = openpyxl.load_workbook(written, data_only=True)  # what previewers and pandas see
    again = openpyxl.load_workbook(recalculated, data_only=True)
    formulas = _formulas(written)
    assert len(formulas) > 300
    wrong = [
        (sheet, cell, text, stored[sheet][cell].value, again[sheet][cell].value)
        for sheet, cell, text in formulas
        if not _same(stored[sheet][cell].value, again[sheet][cell].value)
    ]
    assert wrong == []
    assert stored.sheetnames == SHEETS
    summary = stored["Summary"]
    assert all(isinstance(summary.cell(r, 2).value, float) for r in range(4, 9))  # totals stored
    import pandas as pd

    frame = pd.read_excel(written, sheet_name="Summary", header=None)  # as pandas sees it
    assert frame.iloc[3:8, 1].notna().all() and float(frame.iloc[3, 1]) > 0


def _named(book: openpyxl.Workbook, name: str) -> object:
    sheet, cell = next(iter(book.defined_names[name].destinations))
    return book[sheet][cell.replace("$", "")].value


def test_the_recalculated_pack_shows_roi_own_figures(
    loaded_project: ProjectConfig, pack: tuple[Path, Path]
) -> None:
    book = openpyxl.load_workbook(pack[1], data_only=True)

    def q(sql: str) -> pl.DataFrame:
        return pipeline.query(Context.for_warehouse(loaded_project.warehouse_path), sql)

    source = float(
        q(
            "SELECT sum(effective_cost) FROM cost_lines WHERE billing_period_start = '2026-10-01'"
        ).item()
    )
    usage = float(
        q("SELECT coalesce(sum(amount), 0) FROM usage_costs WHERE month = '2026-10-01'").item() or 0
    )
    assert _named(book, "costs_spend") == pytest.approx(source + usage, abs=0.005)
    assert _named(book, "costs_difference") == 0
    assert _named(book, "summary_spend") == pytest.approx(source + usage, abs=0.005)
    idle = float(
        q(
            "SELECT sum(amount) FROM allocated_costs WHERE month = '2026-10-01' AND model_id = '__idle__'"
        ).item()
    )
    assert idle > 0 and _named(book, "costs_idle") == pytest.approx(
        idle, abs=0.005
    )  # a real figure
    unallocated = q(
        "SELECT sum(amount)::DOUBLE AS a, count(*) AS n FROM (SELECT provider, service_name, resource_id, cost_type, reason, sum(amount) AS amount FROM unallocated_costs WHERE month = '2026-10-01' GROUP BY ALL)"
    ).row(0)
    assert _named(book, "unallocated_total") == pytest.approx(unallocated[0], abs=0.005)
    listed = [
        r
        for r in book["Unallocated"].iter_rows(min_row=5, values_only=True)
        if r[0] and r[0] != "Total"
    ]
    assert len(listed) == unallocated[1]  # complete, not a top 10
    roi = {
        r["model_id"]: r
        for r in q("SELECT * FROM model_roi WHERE month = '2026-10-01'").iter_rows(named=True)
    }
    header = [c.value for c in book["Portfolio"][4]]
    for row in book["Portfolio"].iter_rows(min_row=5, values_only=True):
        if row[0] in roi and roi[row[0]]["roi"] is not None:
            assert row[header.index("ROI")] == pytest.approx(roi[row[0]]["roi"], rel=1e-9)
            assert row[header.index("Net")] == pytest.approx(roi[row[0]]["net"], rel=1e-9)
    value = book["Value"]
    for row in value.iter_rows(min_row=5, values_only=True):
        if row[1] == "net" and roi.get(row[0], {}).get("npv") is not None:
            assert row[-1] == pytest.approx(roi[row[0]]["npv"], rel=1e-9)
    risk = json.loads(
        q(
            "SELECT outputs FROM scenario_runs WHERE command = 'failure --all' ORDER BY created_at DESC LIMIT 1"
        ).item()
    )
    assert _named(book, "portfolio_eal") == pytest.approx(
        sum(r["expected_annual_loss"] for r in risk["models"]), rel=1e-9
    )


@pytest.mark.slow
def test_the_pack_prints_without_hash_cells(pack: tuple[Path, Path], tmp_path: Path) -> None:
    pdf = libreoffice_convert(pack[0], "pdf", tmp_path / "pdf")
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "###" not in text and "Portfolio" in text and "Err:" not in text and "#NAME" not in text


def test_native_charts_tables_formats_and_properties(pack: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(pack[0]) as archive:
        names = archive.namelist()
        core = archive.read("docProps/core.xml").decode()
        custom = archive.read("docProps/custom.xml").decode()
    assert sum(n.startswith("xl/charts/chart") for n in names) >= 4  # native, not pictures
    assert not any(n.startswith("xl/media/") for n in names)
    assert sum(n.startswith("xl/tables/table") for n in names) >= 10
    assert "ML portfolio: executive pack: 2026-10" in core and "October 2026" in core
    assert "roi_version" in custom and "2026-10" in custom
    book = openpyxl.load_workbook(pack[0])
    assert book["Portfolio"].freeze_panes == "C5"
    assert len(book["Portfolio"].conditional_formatting) >= 2  # negative ROI, high exposure
    assert {"Portfolio", "CostByModel", "Unallocated", "ValueCounted", "PnL"} <= {
        t for ws in book.worksheets for t in ws.tables
    }


@pytest.mark.slow
def test_an_analyst_changes_an_assumption_and_roi_follows(
    loaded_project: ProjectConfig, pack: tuple[Path, Path], tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(pack[0])
    sheet = book["Assumptions"]
    rows = {sheet.cell(r, 1).value: r for r in range(1, sheet.max_row + 1)}
    sheet.cell(rows["fraud-detection"], 3).value = 0.5  # count half of the fraud detector's value
    sheet["B3"].value = 0.25  # and a 25% discount rate
    changed = tmp_path / "changed.xlsx"
    book.save(changed)
    again = openpyxl.load_workbook(
        libreoffice_convert(changed, "xlsx", tmp_path / "lo"), data_only=True
    )
    header = [c.value for c in again["Portfolio"][4]]
    fraud = next(
        r
        for r in again["Portfolio"].iter_rows(min_row=5, values_only=True)
        if r[0] == "fraud-detection"
    )
    # roi's what-if for the same assumption: value × 0.5 for the fraud detector.
    whatif = run_scenario(
        _copy(loaded_project, tmp_path / "warehouse"),
        "whatif",
        WhatifOptions(("unit_value[fraud-detection]=0.5",), date(2026, 10, 1)),
    )
    expected = whatif.table.filter(pl.col("model_id") == "fraud-detection")["scenario_roi"].item()
    assert fraud[header.index("ROI")] == pytest.approx(expected, rel=1e-9)
    assert (
        fraud[header.index("ROI")]
        < 0.75
        * next(
            r
            for r in openpyxl.load_workbook(pack[1], data_only=True)["Portfolio"].iter_rows(
                min_row=5, values_only=True
            )
            if r[0] == "fraud-detection"
        )[header.index("ROI")]
    )
    nets = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT net FROM model_roi WHERE model_id = 'recommendations' AND month <= '2026-10-01' "
        "AND net IS NOT NULL ORDER BY month",
    )["net"].to_list()
    npv = next(
        r
        for r in again["Value"].iter_rows(min_row=5, values_only=True)
        if r[0] == "recommendations" and r[1] == "net"
    )[-1]
    assert npv == pytest.approx(excel_npv(monthly_rate(0.25), nets), rel=1e-9)
    assert Decimal(str(npv)) != Decimal(0)


@pytest.mark.slow
def test_value_counted_on_the_assumptions_sheet_reaches_npv(
    loaded_project: ProjectConfig, pack: tuple[Path, Path], tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(pack[0])
    sheet = book["Assumptions"]
    rows = {sheet.cell(r, 1).value: r for r in range(1, sheet.max_row + 1)}
    sheet.cell(rows["recommendations"], 3).value = 0.8  # count 80% of the recommender's value
    changed = tmp_path / "counted.xlsx"
    book.save(changed)
    again = openpyxl.load_workbook(
        libreoffice_convert(changed, "xlsx", tmp_path / "lo"), data_only=True
    )
    value = {(r[0], r[1]): r for r in again["Value"].iter_rows(min_row=5, values_only=True) if r[0]}
    history = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT month, cost, value, net, npv FROM model_roi WHERE model_id = 'recommendations' "
        "AND month <= '2026-10-01' ORDER BY month",
    )
    # roi's own figure for the assumption: every month's value × 0.8, then the same NPV.
    rate = monthly_rate(loaded_project.finance.discount_rate)
    nets = [v * 0.8 - c for v, c in zip(history["value"], history["cost"], strict=True)]
    expected = excel_npv(rate, nets)
    assert expected == pytest.approx(npf.npv(rate, [0.0, *nets]), rel=1e-12)
    npv = value[("recommendations", "net")][-1]
    assert npv == pytest.approx(expected, rel=1e-9)
    assert npv < 0.75 * history["npv"][-1]  # it moved, and by the right amount
    assert [x for x in value[("recommendations", "net")][2:-1] if x != ""] == pytest.approx(
        nets, rel=1e-9
    )
    # The what-if of the same assumption moves the month's net and ROI the same way.
    whatif = run_scenario(
        _copy(loaded_project, tmp_path / "warehouse"),
        "whatif",
        WhatifOptions(("unit_value[recommendations]=0.8",), date(2026, 10, 1)),
    ).table.filter(pl.col("model_id") == "recommendations")
    header = [c.value for c in again["Portfolio"][4]]
    portfolio = next(
        r
        for r in again["Portfolio"].iter_rows(min_row=5, values_only=True)
        if r[0] == "recommendations"
    )
    assert portfolio[header.index("ROI")] == pytest.approx(whatif["scenario_roi"].item(), rel=1e-9)
    assert nets[-1] == pytest.approx(whatif["scenario_net"].item(), rel=1e-9)
    # Other models keep roi's NPV, the retired one (−cost after retirement) included.
    stored = {
        r["model_id"]: r["npv"]
        for r in pipeline.query(
            Context.for_warehouse(loaded_project.warehouse_path),
            "SELECT model_id, npv FROM model_roi WHERE month = '2026-10-01'",
        ).iter_rows(named=True)
    }
    assert value[("aml-screening", "net")][-1] == pytest.approx(stored["aml-screening"], rel=1e-9)
    assert value[("fraud-detection", "net")][-1] == pytest.approx(
        stored["fraud-detection"], rel=1e-9
    )
