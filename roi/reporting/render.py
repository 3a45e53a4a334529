"""Reports: each `reports/*.toml` is a kind (the monthly HTML report or the Excel pack) and a
list of sections; rendering reads every section's figures once and writes the files.

The HTML report is one self-contained file, with each chart also as PNG and SVG beside it
(`<report>_<month>_charts/`) and the whole report as PDF (WeasyPrint). The pack is one
workbook whose sheets the sections fill, plus Assumptions and Data.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from roi import __version__
from roi.config import ProjectConfig, ReportConfig
from roi.config.reports import ReportOptions
from roi.errors import ConfigError
from roi.progress import SILENT, Progress
from roi.reporting.book import Book, column_range
from roi.reporting.charts import Charts, for_print
from roi.reporting.columns import Column
from roi.reporting.data import ReportData, open_report
from roi.reporting.html import page, print_parts
from roi.reporting.numbers import RATE
from roi.reporting.renderer import Renderer
from roi.reporting.sections import Section, every_section, report_sections
from roi.reuse import inputs_key
from roi.warehouse import Connection, fetch_one

DEFAULT_REPORTS = (
    ReportConfig(
        "monthly_finance", "monthly_finance", "ML portfolio: monthly report", Path("<default>")
    ),
    ReportConfig("executive_pack", "excel_pack", "ML portfolio: executive pack", Path("<default>")),
)
# The pack's own sheets, placed among the sections' sheets by the same `order`: the
# assumptions before the lineage appendix (quality, 90), the data for pivots last.
PACK_SHEETS: tuple[tuple[int, str], ...] = ((80, "Assumptions"), (1000, "Data"))


def report_path(out_dir: Path, report: ReportConfig, month: date) -> Path:
    """Where a rendered report goes: `<out>/<report name>_<YYYY-MM>.<html|xlsx>`."""
    suffix = "xlsx" if report.kind == "excel_pack" else "html"
    return out_dir / f"{report.name}_{month:%Y-%m}.{suffix}"


def _read(
    data: ReportData,
    sections: tuple[Section[Any], ...],
    progress: Progress,
    read: dict[tuple[object, ...], object],
) -> dict[str, object]:
    """Each section's figures; a section already read for another report of the same month
    and options (the HTML report and the pack of `roi run`) is read once."""
    options = repr(replace(data.options, sections=None, pdf=True))  # budgets: not hashable
    figures = {}
    for section in progress.track(list(sections), "reading"):
        key = (section.name, data.month, options)
        if key not in read:
            read[key] = section.read(data)
        figures[section.name] = read[key]
    return figures


def render_html(
    data: ReportData,
    sections: tuple[Section[Any], ...],
    figures: dict[str, object],
    path: Path,
    renderer: Renderer,
) -> tuple[list[Path], Callable[[], None]]:
    """The HTML report of `sections` with its charts and PDF (drawn by `renderer`): the files
    written, and a function that waits until the PDF among them is (the renderer lays it out
    meanwhile)."""
    # Each chart is drawn by the renderer as soon as its section builds it.
    charts = Charts(renderer.start_charts)
    parts = [(s.name, s.title, s.html(figures[s.name], data, charts)) for s in sections]
    meta = (
        f"{data.project.project.name} · {data.month:%B %Y} · generated "
        f"{data.generated_at:%Y-%m-%d %H:%M} UTC · attribution {data.attribution_id} "
        f"· amounts in {data.currency}, effective (amortized) cost"
    )
    front = {s.name for s in sections if s.front}
    title = f"{data.report.title}: {data.month:%B %Y}"
    text = charts.render(page(title, meta, parts, f"roi {__version__}", front))
    _atomic_text(path, text)
    folder = path.with_name(path.stem + "_charts")
    written = [path, *charts.write(folder)]
    if not data.options.pdf:
        return written, lambda: None
    pdf = path.with_suffix(".pdf")
    # The PDF reads the charts' PNG files just written (not base64 inlined in its page).
    pictures = {n: folder / f"{n}.png" for n in charts.pngs}
    return [*written, pdf], renderer.start_pdf(print_parts(for_print(text, pictures)), pdf)


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
            Column("model_id", "Model id"),
            Column("label", "Model"),
            Column("counted", "Value counted", "percent"),
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
            n,
            n.replace("_", " ").capitalize(),
            "money" if n in MONEY_COLUMNS else "month" if n in MONTH_COLUMNS else "text",
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
MONTH_COLUMNS = {"month", "payback_month", "horizon_end"}


def render_excel(
    data: ReportData,
    sections: tuple[Section[Any], ...],
    figures: dict[str, object],
    path: Path,
) -> list[Path]:
    """The Excel pack: a sheet per section that has one, and its own sheets; the file
    written."""
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
    shown = {s.name for s in sections}
    included = [s for s in every_section() if s.name in shown]  # in the pack's order
    sheets = [(s.order, s.sheet) for s in included if s.sheet is not None]
    for _, sheet in sorted([*sheets, *PACK_SHEETS]):
        book.sheet(sheet)
    _assumptions(data, book, data.model_ids)
    for section in sorted(included, key=lambda s: s.fill_last):
        section.excel(figures[section.name], data, book)
    _data(data, book)
    next(iter(book.sheets.values())).ws.activate()
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
    force: bool = False,
    renderer: Renderer | None = None,
    only: tuple[str, ...] = (),
) -> list[Path]:
    """Render the project's reports (of the given kinds; `only`: those named) for one month;
    return the main files.

    `out_file` names the file of a single report instead of `<out>/<report>_<month>.<ext>`; a
    folder there puts the report in it. A report whose inputs (loads, attributions,
    definitions, the report's own options, the scenario runs, roi's version) are those it was
    last rendered from, with its files in place, is kept unless `force`. HTML reports draw
    their charts and PDF with `renderer` (else one is started for the first that renders).
    """
    out = out_dir or project.reports_out
    reports = [r for r in _named(project, only) if r.kind in kinds]
    # HTML reports first: their PDFs are laid out by the renderer while the packs are built.
    reports.sort(key=lambda r: r.kind == "excel_pack")
    # Every report to render names sections that exist, or none is written.
    chosen = [report_sections(r) for r in reports]
    runs = fetch_one(con, "SELECT string_agg(run_id, ',' ORDER BY run_id) FROM scenario_runs")
    written: list[Path] = []
    read: dict[tuple[object, ...], object] = {}
    pending: list[tuple[Callable[[], None], ReportConfig, Path, str, list[Path]]] = []
    with contextlib.ExitStack() as stack:
        for report, sections in zip(reports, chosen, strict=True):
            data = open_report(con, project, report, month)
            if out_file is not None and (out_file.is_dir() or out_file.suffix == ""):
                path = report_path(out_file, report, data.month)
            else:
                path = out_file if out_file is not None else report_path(out, report, data.month)
            key = inputs_key(con, project, "report", report, data.month, runs[0], path.resolve())
            if not force and unchanged(path, key):
                progress.info(f"{report.name}: inputs unchanged, kept {path} (--force renders it)")
                written.append(path)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            written.append(path)
            if report.kind == "excel_pack":
                files = render_excel(data, sections, _read(data, sections, progress, read), path)
                _finished(report, path, key, files, progress)
                continue
            if renderer is None:  # vl-convert and WeasyPrint start while figures are read
                renderer = stack.enter_context(Renderer())
            figures = _read(data, sections, progress, read)
            files, pdf_written = render_html(data, sections, figures, path, renderer)
            pending.append((pdf_written, report, path, key, files))
        for pdf_written, report, path, key, files in pending:
            pdf_written()
            _finished(report, path, key, files, progress)
    return written


def _named(project: ProjectConfig, only: tuple[str, ...]) -> list[ReportConfig]:
    """The project's reports (`only`: those named, each of which must exist)."""
    reports = list(project.reports or DEFAULT_REPORTS)
    names = [r.name for r in reports]
    for name in only:
        if name not in names:
            raise ConfigError(
                f"no report named {name!r}; the project's reports: {', '.join(names)}"
            )
    return [r for r in reports if not only or r.name in only]


def _finished(
    report: ReportConfig, path: Path, key: str, files: list[Path], progress: Progress
) -> None:
    """A report written whole: its inputs recorded beside it, and said."""
    keep_key(path, key, files)
    progress.info(f"{report.name}: wrote {path}")


def _key_file(path: Path) -> Path:
    return path.with_name(f".{path.name}.inputs")


def unchanged(path: Path, key: str) -> bool:
    """Whether the report at `path` and every file it wrote exist, rendered from `key`."""
    try:
        saved = json.loads(_key_file(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    files = [path.parent / name for name in saved.get("files", [])]
    return bool(saved.get("inputs_key") == key and files and all(f.exists() for f in files))


def keep_key(path: Path, key: str, files: list[Path]) -> None:
    """Record beside a rendered report the key of its inputs and the files it wrote."""
    names = [str(f.relative_to(path.parent)) for f in files]
    _key_file(path).write_text(json.dumps({"inputs_key": key, "files": names}), encoding="utf-8")


__all__ = ["DEFAULT_REPORTS", "ReportOptions", "pl", "render_reports", "report_path"]
