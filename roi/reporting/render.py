"""Reports: the monthly HTML finance report and the Excel executive pack, from the warehouse."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from roi.config import ProjectConfig, ReportConfig
from roi.progress import SILENT, Progress
from roi.reporting.checks import DEFAULT_CHANGE_THRESHOLD
from roi.reporting.excel import build_workbook
from roi.reporting.figures import monthly_figures
from roi.reporting.html import render_html
from roi.warehouse import Connection

DEFAULT_REPORTS = (
    ReportConfig(
        "monthly_finance", "monthly_finance", "ML portfolio: monthly cost report", Path("<default>")
    ),
    ReportConfig("executive_pack", "excel_pack", "ML portfolio: executive pack", Path("<default>")),
)


def report_path(out_dir: Path, report: ReportConfig, month: date) -> Path:
    """Where a rendered report goes: `<out>/<report name>_<YYYY-MM>.<html|xlsx>`."""
    suffix = "xlsx" if report.kind == "excel_pack" else "html"
    return out_dir / f"{report.name}_{month:%Y-%m}.{suffix}"


def render_reports(
    con: Connection,
    project: ProjectConfig,
    month: date | None = None,
    out_dir: Path | None = None,
    kinds: tuple[str, ...] = ("monthly_finance", "excel_pack"),
    progress: Progress = SILENT,
    out_file: Path | None = None,
) -> list[Path]:
    """Render the project's reports (of the given kinds) for one month; return the files written.

    `out_file` names the file of a single report instead of `<out>/<report>_<month>.<ext>`.
    """
    out = out_dir or project.reports_out
    reports = [r for r in (project.reports or DEFAULT_REPORTS) if r.kind in kinds]
    written: list[Path] = []
    for report in reports:
        figures = monthly_figures(
            con,
            project,
            month,
            trend_months=int(report.options.get("trend_months", 12)),
            top_unallocated=int(report.options.get("top_unallocated", 10)),
            change_threshold=float(report.options.get("change_warning", DEFAULT_CHANGE_THRESHOLD)),
        )
        path = out_file if out_file is not None else report_path(out, report, figures.month)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        if report.kind == "excel_pack":
            build_workbook(figures, report.title).save(tmp)
        else:
            tmp.write_text(render_html(figures, report.title), encoding="utf-8")
        tmp.replace(path)
        progress.info(f"{report.name}: wrote {path}")
        written.append(path)
    return written
