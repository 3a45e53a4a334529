"""The monthly job and its outputs: `roi run`, `report`, `export excel`."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    pass

from roi.cli.group import cli
from roi.cli.support import (
    MONTH,
    Options,
    command_group,
    emit,
    roi_command,
)

OUT_FOLDER = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the reports (default: the project's reports/out).",
)


def _emit_outputs(opts: Options, paths: list[Path]) -> None:
    """List the files a command wrote, one row each."""
    import polars as pl

    emit(opts, pl.DataFrame({"output": [str(p) for p in paths]}, schema={"output": pl.String}))


@cli.command()
@MONTH
@OUT_FOLDER
@click.option(
    "--force", is_flag=True, help="Render the reports even when their inputs are unchanged."
)
@roi_command
def run(opts: Options, month: date | None, out: Path | None, force: bool) -> None:
    """The main job: load every connector, attribute cost, write the month's reports.

    What did not change since the last run is not recomputed: months whose inputs are the
    same, the value tables, standing scenario runs and reports (listed on stderr as reused or
    kept; --force renders the reports all the same).

    \b
    Examples:
      roi run
      roi run --month 2026-09 --out /tmp/reports
    """
    from roi import pipeline

    result = pipeline.run(opts.context(), month, out, force)
    _emit_outputs(opts, result.outputs)


@cli.command()
@MONTH
@OUT_FOLDER
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="NAME",
    help="Write only this report (a file name in reports/, e.g. monthly_finance); repeatable.",
)
@roi_command
def report(opts: Options, month: date | None, out: Path | None, only: tuple[str, ...]) -> None:
    """Write the month's reports: the finance report (HTML with charts, and PDF) and the Excel
    pack, as the project's reports/ define them.

    The pack is built while the PDF is laid out. `roi export excel` writes the pack alone.

    \b
    Examples:
      roi report --month 2026-10
      roi report --only monthly_finance
    """
    from roi.reporting.renderer import Renderer

    # The renderer process starts vl-convert and WeasyPrint now, while roi itself loads.
    with Renderer() as renderer:
        from roi import pipeline

        paths = pipeline.report(
            opts.context(), month, out, force=True, renderer=renderer, only=only
        )
    _emit_outputs(opts, paths)


export = command_group(
    "export", "Export the warehouse's figures to other tools (Excel, FOCUS 1.3)."
)
cli.add_command(export)


@export.command("excel")
@MONTH
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Workbook to write, or a folder to write it in (default: "
    "reports/out/executive_pack_<month>.xlsx).",
)
@roi_command
def export_excel(opts: Options, month: date | None, out: Path | None) -> None:
    """Write the Excel executive pack for a month.

    \b
    Example:
      roi export excel --month 2026-10 --out pack.xlsx
    """
    from roi import pipeline

    paths = pipeline.report(opts.context(), month, None, ("excel_pack",), out_file=out, force=True)
    _emit_outputs(opts, paths)


@export.command("focus")
@click.option(
    "--month",
    "month",
    type=click.DateTime(formats=["%Y-%m"]),
    required=True,
    help="The month to export (YYYY-MM).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write: .csv, .csv.gz or .parquet.",
)
@roi_command
def export_focus(opts: Options, month: datetime, out: Path) -> None:
    """Write a month's cost as FOCUS 1.3 with roi's allocation as split charges.

    Every billing line becomes one row per model it was attributed to (AllocatedMethodId,
    AllocatedMethodDetails, AllocatedResourceId, AllocatedTags), the rows of a line adding up
    to it exactly.

    \b
    Example:
      roi export focus --month 2026-10 --out focus_2026-10.parquet
    """
    import polars as pl

    from roi import pipeline

    path, rows = pipeline.export_focus(opts.context(), month.date().replace(day=1), out)
    emit(opts, pl.DataFrame({"output": [str(path)], "rows": [rows]}))
