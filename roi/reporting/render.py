"""Reports: each `reports/*.toml` is a kind (the monthly HTML report or the Excel pack) and a
list of sections; rendering reads every section's figures once and writes the files.

The HTML report is one self-contained file, with each chart also as PNG and SVG beside it
(`<report>_<month>_charts/`) and the whole report as PDF (WeasyPrint). The pack is one
workbook whose sheets the sections fill, plus Assumptions and Data.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from roi import __version__
from roi.config import ProjectConfig, ReportConfig
from roi.config.reports import SECTION_ORDER, ReportOptions
from roi.progress import SILENT, Progress
from roi.reporting.book import MONEY, PERCENT, RATE, Book, Column, column_range
from roi.reporting.charts import Charts, for_print
from roi.reporting.data import ReportData, open_report
from roi.reporting.html import page
from roi.reporting.sections import section
from roi.warehouse import Connection

DEFAULT_REPORTS = (
    ReportConfig(
        "monthly_finance", "monthly_finance", "ML portfolio: monthly report", Path("<default>")
    ),
    ReportConfig("executive_pack", "excel_pack", "ML portfolio: executive pack", Path("<default>")),
)
# The pack's sheets in the order a reader meets them, and the section that fills each.
SHEETS = (
    ("Summary", "summary"),
    ("Portfolio", "portfolio"),
    ("Costs", "costs"),
    ("Value", "unit_economics"),
    ("Risk", "risk"),
    ("Forecast", "forecast"),
    ("Unallocated", "unallocated"),
    ("Assumptions", None),
    ("Lineage", "quality"),
    ("Data", None),
)
# Sheets are filled so that the named totals a sheet refers to exist (the Summary last).
FILL_ORDER = (*(s for s in SECTION_ORDER if s != "summary"), "summary")


def report_path(out_dir: Path, report: ReportConfig, month: date) -> Path:
    """Where a rendered report goes: `<out>/<report name>_<YYYY-MM>.<html|xlsx>`."""
    suffix = "xlsx" if report.kind == "excel_pack" else "html"
    return out_dir / f"{report.name}_{month:%Y-%m}.{suffix}"


def _read(data: ReportData, names: tuple[str, ...], progress: Progress) -> dict[str, object]:
    return {name: section(name).read(data) for name in progress.track(list(names), "reading")}


def render_html(data: ReportData, figures: dict[str, object], path: Path) -> list[Path]:
    """The HTML report (and its charts and PDF); the files written."""
    charts = Charts()
    parts = []
    for name in data.options.sections:
        module = section(name)
        parts.append((name, module.TITLE, module.html(figures[name], data, charts)))
    attribution = data.attribution_id
    meta = (
        f"{data.project.project.name} · {data.month:%B %Y} · generated "
        f"{data.generated_at:%Y-%m-%d %H:%M} UTC "
        f"· attribution {attribution} · amounts in {data.currency}, effective (amortized) cost"
    )
    text = page(f"{data.report.title}: {data.month:%B %Y}", meta, parts, f"roi {__version__}")
    text = charts.render(text)
    _atomic_text(path, text)
    written = [path, *charts.write(path.with_name(path.stem + "_charts"))]
    if data.options.pdf:
        pdf = path.with_suffix(".pdf")
        _pdf(for_print(text, charts.pngs), pdf)
        written.append(pdf)
    return written


def _pdf(html: str, path: Path) -> None:
    from weasyprint import HTML

    tmp = path.with_name(path.name + ".tmp")
    HTML(string=html).write_pdf(str(tmp))
    tmp.replace(path)


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _assumptions(data: ReportData, book: Book, models: list[str]) -> None:
    sheet = book.sheets["Assumptions"]
    sheet.title(0, "Assumptions: change a value here and the dependent cells follow")
    sheet.text(2, 0, "Discount rate (annual), [finance] discount_rate")
    sheet.number(2, 1, data.project.finance.discount_rate, RATE)
    book.define("discount_rate", sheet, 2, 1)
    rate = (1 + data.project.finance.discount_rate) ** (1 / 12) - 1
    sheet.text(3, 0, "Monthly rate: (1 + annual)^(1/12) − 1")
    sheet.formula(3, 1, "=(1+discount_rate)^(1/12)-1", rate, "0.0000%")
    book.define("monthly_rate", sheet, 3, 1)
    sheet.text(
        5,
        0,
        "Value counted: the share of each model's measured value the Portfolio sheet "
        "counts (100% = as measured)",
        "bold",
    )
    rows = [{"model_id": m, "label": data.label(m), "counted": 1.0} for m in models]
    refs = sheet.table(
        6,
        0,
        "ValueCounted",
        [
            Column("Model id", "model_id"),
            Column("Model", "label"),
            Column("Value counted", "counted", PERCENT),
        ],
        rows,
    )
    book.define_range("assumption_models", column_range(sheet, refs["model_id"]))
    book.define_range("value_counted", column_range(sheet, refs["counted"]))


def _data(data: ReportData, book: Book) -> None:
    sheet = book.sheets["Data"]
    sheet.title(0, "Data: the monthly P&L per model (model_roi) for pivots")
    columns = [
        Column(
            n.replace("_", " ").capitalize(),
            n,
            MONEY
            if n in MONEY_COLUMNS
            else "mmm yyyy"
            if n in ("month", "payback_month", "horizon_end")
            else None,
        )
        for n in data.pnl.columns
    ]
    sheet.table(2, 0, "PnL", columns, data.pnl.to_dicts())


MONEY_COLUMNS = {
    "cost",
    "value",
    "value_low",
    "value_high",
    "net",
    "cumulative_net",
    "npv",
    "npv_horizon",
    "unit_cost",
    "cost_per_gpu_hour",
    "cost_per_1m_tokens",
}


def render_excel(data: ReportData, figures: dict[str, object], path: Path) -> list[Path]:
    """The Excel pack; the file written."""
    attribution = data.attribution_id
    tmp = path.with_name(path.stem + ".tmp.xlsx")
    book = Book(
        tmp,
        {
            "title": f"{data.report.title}: {data.month:%Y-%m}",
            "subject": f"{data.month:%B %Y}",
            "author": "roi",
            "company": data.project.project.name,
            "category": "ML portfolio report",
            "comments": f"generated {data.generated_at:%Y-%m-%d %H:%M} UTC by roi {__version__}",
            "keywords": "ML portfolio, cost, value, ROI, risk",
        },
        {
            "period": f"{data.month:%Y-%m}",
            "generated_at": data.generated_at.isoformat(),
            "roi_version": __version__,
            "attribution_id": str(attribution),
        },
    )
    included = set(data.options.sections)
    for sheet, owner in SHEETS:
        if owner is None or owner in included:
            book.sheet(sheet)
    _assumptions(data, book, data.model_ids)
    for name in FILL_ORDER:
        if name in included:
            section(name).excel(figures[name], data, book)
    _data(data, book)
    book.sheets[SHEETS[0][0] if "summary" in included else next(iter(book.sheets))].ws.activate()
    book.close()
    tmp.replace(path)
    return [path]


def render_reports(
    con: Connection,
    project: ProjectConfig,
    month: date | None = None,
    out_dir: Path | None = None,
    kinds: tuple[str, ...] = ("monthly_finance", "excel_pack"),
    progress: Progress = SILENT,
    out_file: Path | None = None,
) -> list[Path]:
    """Render the project's reports (of the given kinds) for one month; return the main files.

    `out_file` names the file of a single report instead of `<out>/<report>_<month>.<ext>`; a
    folder there puts the report in it.
    """
    out = out_dir or project.reports_out
    reports = [r for r in (project.reports or DEFAULT_REPORTS) if r.kind in kinds]
    written: list[Path] = []
    for report in reports:
        data = open_report(con, project, report, month)
        if out_file is not None and (out_file.is_dir() or out_file.suffix == ""):
            path = report_path(out_file, report, data.month)
        else:
            path = out_file if out_file is not None else report_path(out, report, data.month)
        path.parent.mkdir(parents=True, exist_ok=True)
        figures = _read(data, data.options.sections, progress)
        if report.kind == "excel_pack":
            render_excel(data, figures, path)
        else:
            render_html(data, figures, path)
        progress.info(f"{report.name}: wrote {path}")
        written.append(path)
    return written


__all__ = ["DEFAULT_REPORTS", "ReportOptions", "pl", "render_reports", "report_path"]
