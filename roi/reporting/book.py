"""The Excel pack's writer (XlsxWriter): every formula stored with the value roi computed for it,
text always as text, named cells and Excel tables instead of hand-placed addresses.

XlsxWriter is the one writer of the pack because it can store a formula's result next to the
formula (openpyxl cannot): previewers, pandas and `openpyxl(data_only=True)` see numbers, and
Excel or LibreOffice recalculating see the same numbers again. Billing text (names, tags,
resource ids) goes through `Sheet.text`, which writes a string cell whatever it starts with
(`=`, `+`, `@`), with characters XML cannot hold replaced.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from roi.reporting.columns import Column
from roi.reporting.numbers import DAY, MONEY, TIMESTAMP

ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_WIDTH = 70


def clean(text: str) -> str:
    """Text as an Excel cell may hold it (control characters XML refuses become U+FFFD)."""
    return ILLEGAL.sub("\ufffd", text)


@dataclass
class Sheet:
    """One worksheet and the widths its content needs."""

    book: Book
    ws: Worksheet
    name: str
    widths: dict[int, float] = field(default_factory=dict)

    def _fit(self, col: int, shown: str) -> None:
        width = min(max(len(line) for line in shown.splitlines() or [""]) + 2, MAX_WIDTH)
        self.widths[col] = max(self.widths.get(col, 8), width)

    def text(self, row: int, col: int, value: str | None, fmt: str | None = None) -> None:
        """A string cell, never a formula, whatever the text starts with."""
        shown = clean(value or "")
        self.ws.write_string(row, col, shown, self.book.format(fmt))
        self._fit(col, shown)

    def number(self, row: int, col: int, value: Any, fmt: str | None = MONEY) -> None:
        """A number (or date) cell; None leaves the cell blank."""
        if value is None:
            self.ws.write_blank(row, col, None, self.book.format(fmt))
            return
        if isinstance(value, datetime):
            self.ws.write_datetime(
                row, col, value.replace(tzinfo=None), self.book.format(fmt or TIMESTAMP)
            )
            self._fit(col, "2026-10-01 12:00")
            return
        if isinstance(value, date):
            self.ws.write_datetime(
                row,
                col,
                datetime(value.year, value.month, value.day),  # noqa: DTZ001 (Excel: naive)
                self.book.format(fmt or DAY),
            )
            self._fit(col, "Sep 2026 ")
            return
        number = float(value) if isinstance(value, Decimal | int) else value
        self.ws.write_number(row, col, number, self.book.format(fmt))
        self._fit(col, f"{number:,.2f}" if fmt and "0.00" in fmt else f"{number:,.0f}")

    def formula(
        self, row: int, col: int, formula: str, value: Any, fmt: str | None = MONEY
    ) -> None:
        """A formula the pack builds (never from data), stored with the value roi computed."""
        cached: Any = (
            "" if value is None else float(value) if isinstance(value, Decimal | int) else value
        )
        self.ws.write_formula(row, col, formula, self.book.format(fmt), cached)
        if isinstance(cached, float):
            self._fit(col, f"{cached:,.2f}")

    def cell(self, row: int, col: int, absolute: bool = True) -> str:
        """A cell's address on this sheet, for a formula on another sheet."""
        ref = xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)
        return f"'{self.name}'!{ref}"

    def table(
        self, row: int, col: int, name: str, columns: Sequence[Column], rows: list[dict[str, Any]]
    ) -> dict[str, tuple[int, int, int]]:
        """An Excel table of `rows` (text and numbers) in the columns the pack shows, header at
        `row`; returns each column's (column, first data row, last data row) for formulas."""
        shown = [c for c in columns if c.in_excel]
        last_row = row + max(len(rows), 1)
        self.ws.add_table(
            row,
            col,
            last_row,
            col + len(shown) - 1,
            {
                "name": name,
                "columns": [{"header": c.sheet_header} for c in shown],
                "style": "Table Style Light 9",
                "autofilter": True,
            },
        )
        for j, column in enumerate(shown):
            self._fit(col + j, column.sheet_header)
            if column.width:
                self.widths[col + j] = column.width
        for i, values in enumerate(rows, row + 1):
            for j, column in enumerate(shown):
                value = values.get(column.key)
                if isinstance(value, str):
                    self.text(i, col + j, value, column.format.excel)
                else:
                    self.number(i, col + j, value, column.format.excel)
        return {c.key: (col + j, row + 1, row + len(rows)) for j, c in enumerate(shown)}

    def title(self, row: int, text: str, subtitle: str | None = None) -> None:
        """A sheet title (and a line under it)."""
        self.ws.write_string(row, 0, clean(text), self.book.format("title"))
        if subtitle:
            self.ws.write_string(row + 1, 0, clean(subtitle), self.book.format("note"))

    def finish(self) -> None:
        """Apply the widths the content needs; print landscape, one page wide."""
        for col, width in self.widths.items():
            self.ws.set_column(col, col, width)
        self.ws.set_landscape()
        self.ws.set_paper(9)  # A4
        self.ws.fit_to_pages(1, 0)
        self.ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)


def a1(row: int, col: int) -> str:
    """A cell's relative address (`G5`) for a formula on the same sheet."""
    return str(xl_rowcol_to_cell(row, col))


def column_range(sheet: Sheet, ref: tuple[int, int, int]) -> str:
    """`'Sheet'!$C$5:$C$16` for a table column from `Sheet.table`."""
    col, first, last = ref
    letter = xl_col_to_name(col)
    return f"'{sheet.name}'!${letter}${first + 1}:${letter}${max(last, first) + 1}"


class Book:
    """One workbook: its formats, sheets and defined names."""

    def __init__(self, path: Path, properties: dict[str, str], custom: dict[str, str]) -> None:
        self.wb: Workbook = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "default_date_format": DAY,
            },
        )
        self.wb.set_properties(properties)
        for key, value in custom.items():
            self.wb.set_custom_property(key, value)
        self.sheets: dict[str, Sheet] = {}
        self.names: set[str] = set()
        self.charts: dict[str, Any] = {}  # native charts sections made for another sheet
        self._formats: dict[str | None, Any] = {}
        self.wb.set_calc_mode("auto")

    def format(self, name: str | None) -> Any:
        """A cell format: a number format, or `title`, `note`, `bold`, `header`, `warn`;
        `bold:<format>` and `over:<format>` (over budget: the warning colour) add a number
        format to a style."""
        if name in self._formats:
            return self._formats[name]
        styles: dict[str, dict[str, Any]] = {
            "title": {"bold": True, "font_size": 14},
            "note": {"italic": True, "font_color": "#5b6475"},
            "bold": {"bold": True},
            "header": {"bold": True, "bg_color": "#DCE3EE", "text_wrap": True},
            "warn": {"font_color": "#B42318", "text_wrap": True},
            "ok": {"font_color": "#1A7F37", "bold": True},
            "wrap": {"text_wrap": True, "valign": "top"},
            # over budget (and its conditional format); `plain` undoes it when back under
            "over:": {"font_color": "#B42318", "bg_color": "#FDE8E6", "bold": True},
            "plain": {"font_color": "#1F2933", "bg_color": "#FFFFFF", "bold": False},
        }
        if name is None:
            fmt = None
        elif name in styles:
            fmt = self.wb.add_format(styles[name])
        elif name.startswith("bold:"):
            fmt = self.wb.add_format({"bold": True, "num_format": name[5:]})
        elif name.startswith("over:"):  # over budget: the warning colour, with a number format
            fmt = self.wb.add_format({**styles["over:"], "num_format": name[5:]})
        else:
            fmt = self.wb.add_format({"num_format": name})
        self._formats[name] = fmt
        return fmt

    def sheet(self, name: str) -> Sheet:
        """A new worksheet."""
        sheet = Sheet(self, self.wb.add_worksheet(name), name)
        self.sheets[name] = sheet
        return sheet

    def define(self, name: str, sheet: Sheet, row: int, col: int) -> str:
        """A workbook-level name for one cell; returns the name."""
        self.wb.define_name(name, f"={sheet.cell(row, col)}")
        self.names.add(name)
        return name

    def define_range(self, name: str, reference: str) -> str:
        """A workbook-level name for a range (`'Sheet'!$A$1:$A$9`); returns the name."""
        self.wb.define_name(name, f"={reference}")
        self.names.add(name)
        return name

    def close(self) -> None:
        """Fit the columns and write the file."""
        for sheet in self.sheets.values():
            sheet.finish()
        self.wb.close()
