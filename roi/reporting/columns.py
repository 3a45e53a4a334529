"""A table's columns, declared once for both renderers: the HTML table (`roi.reporting.html.table`)
and the pack's Excel table (`roi.reporting.book.Sheet.table`).

A column is the row key it shows, its header and its kind; the kind says how the page writes a
value (`money` → `−12,345.67`, right-aligned) and which number format the pack gives it. A
column only one of the two shows says so with `only`; a header the pack words differently (a
longer name where the page is short of room) is `excel_header`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from roi.reporting import numbers

Kind = Literal[
    "text",  # data text, left-aligned
    "id",  # an identifier (resource, file, load, run): monospaced on the page
    "wrap",  # long text (flags, reasons): wrapped in the pack
    "html",  # HTML the section built itself (sparklines, badges): the page only
    "money",  # an amount: `−12,345.67`
    "count",  # a whole number of things (lines, rows, files)
    "integer",  # a large whole number (tokens)
    "ratio",  # a share as a whole percentage (ROI: `412%`)
    "percent",  # a share with one decimal (`37.5%`)
    "quantity",  # a measured quantity, two decimals
    "hours",  # GPU-hours: two decimals on the page, one in the pack
    "month",  # a month: `2026-10` on the page, `Oct 2026` in the pack
    "timestamp",  # a time to the minute
    "variance",  # an amount against a budget: `+845.91`; over budget is the warning colour
    "variance_share",  # a share against a budget: `+12.1%`; over budget is the warning colour
]


@dataclass(frozen=True)
class Format:
    """How a kind of column reads on the page and in the pack."""

    text: Callable[[Any], str] | None  # the page's text of a value (None: the value as text)
    css: str  # the page cell's class: "num" right-aligns
    excel: str | None  # the pack's number format (None: the cell's own type decides)
    over: int | None = None  # against a budget: above zero at these decimals is over budget


FORMATS: dict[Kind, Format] = {
    "text": Format(None, "", None),
    "id": Format(None, "id", None),
    "wrap": Format(None, "", "wrap"),
    "html": Format(None, "", None),
    "money": Format(numbers.money, "num", numbers.MONEY),
    "count": Format(numbers.count, "num", numbers.MONEY0),
    "integer": Format(numbers.count, "num", numbers.INTEGER),
    "ratio": Format(numbers.ratio, "num", numbers.PERCENT),
    "percent": Format(numbers.percent1, "num", numbers.PERCENT),
    "quantity": Format(numbers.number, "num", numbers.DECIMAL2),
    "hours": Format(numbers.number, "num", numbers.DECIMAL1),
    "month": Format(numbers.month, "", numbers.MONTH),
    "timestamp": Format(numbers.timestamp, "", numbers.TIMESTAMP),
    "variance": Format(numbers.signed_money, "num", numbers.VARIANCE, over=2),
    "variance_share": Format(numbers.signed_percent, "num", numbers.VARIANCE_SHARE, over=3),
}


@dataclass(frozen=True)
class Column:
    """One column of a report table: the row key, its header and kind, where it shows."""

    key: str
    header: str
    kind: Kind = "text"
    width: float | None = None  # the pack's column width (default: fitted to the content)
    only: Literal["html", "excel"] | None = None  # shown by one renderer only
    excel_header: str | None = None  # the pack's header, where it differs from the page's

    @property
    def format(self) -> Format:
        """How the column's values read."""
        return FORMATS[self.kind]

    @property
    def in_html(self) -> bool:
        """Whether the HTML table shows the column."""
        return self.only != "excel"

    @property
    def in_excel(self) -> bool:
        """Whether the pack's table shows the column (never HTML built for the page)."""
        return self.only != "html" and self.kind != "html"

    @property
    def sheet_header(self) -> str:
        """The pack's header."""
        return self.excel_header or self.header
