"""Data output for the CLI: a Polars frame as a text table that fits the terminal, JSON or CSV.

Tables: money with two decimals and thousands separators (a price per unit with four), ROI as
a percentage (0 decimals), shares as percentages (1 decimal), counts with thousands separators
(`roi.documents.measure` says which column is which). A table never prints wider than the terminal
(`shutil.get_terminal_size`: the COLUMNS variable, else the terminal, else `PIPE_WIDTH` when
stdout is not a terminal): long text cells and headers wrap; when the columns still do not fit,
the lowest-priority ones (empty, the same in every row, then text, from the right) are left out
and one line names them.

Text from data is untrusted (`roi.text`): in a table its control and direction characters show
as symbols and very long values are shortened in the middle; in CSV, text a spreadsheet would
run as a formula starts with `'`. JSON carries every value unchanged (`roi.documents`).
"""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from roi.documents import CENT, Measure, measure, plain, records, to_decimal
from roi.text import FORMULA_STARTS, shown

TABLE_CELL_CHARACTERS = 200
PRICE = Decimal("0.0001")  # a price per unit shows 4 decimals
PIPE_WIDTH = 120  # the width of a table when stdout is not a terminal and COLUMNS is unset
GAP = 2  # spaces between columns
MIN_TEXT_WIDTH = 12  # a column of prose wraps down to this width before columns are dropped
MAX_WORD_WIDTH = 40  # a column of single words (ids, times) wraps only beyond this width
# Columns kept longest when a table must leave some out (after the first, the row's name).
IMPORTANT = frozenset(
    {
        "cost", "value", "net", "roi", "difference", "flags", "amount", "change",
        "scenario_cost", "scenario_net", "scenario_roi", "expected_annual_loss", "yearly_cost",
        "forecast", "lower", "upper", "rows_loaded", "data_through", "total_cost",
        "monthly_cost", "output", "var", "expected_shortfall", "decay_per_month", "net_vs_today",
    }
)  # fmt: skip


def terminal_width() -> int:
    """The width tables must fit: COLUMNS, else the terminal's, else `PIPE_WIDTH`."""
    return max(20, shutil.get_terminal_size((PIPE_WIDTH, 24)).columns)


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (lists, maps, structs) as JSON text, for CSV and tables."""
    nested = [c for c, t in frame.schema.items() if t.is_nested()]
    if not nested:
        return frame
    return frame.with_columns(
        pl.Series(c, [json.dumps(plain(v)) if v is not None else None for v in frame[c].to_list()])
        for c in nested
    )


def cell(value: Any, kind: Measure | None = None) -> str:
    """One value as table text: money `1,234.56`, ROI `1590%`, a share `75.1%`, counts
    `1,000`, other text shown safely."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"  # a count, whatever its name
    money = kind in ("money", "price")
    number = None if isinstance(value, str) and not money else to_decimal(value)
    if number is not None and kind is not None:
        if kind == "money":
            return f"{number.quantize(CENT, ROUND_HALF_UP):,}"
        if kind == "price":
            return f"{number.quantize(PRICE, ROUND_HALF_UP):,}"
        if kind == "roi":
            return f"{number * 100:,.0f}%"
        return f"{number * 100:,.1f}%"
    if isinstance(value, Decimal):
        if value.as_tuple().exponent == 0:
            return f"{int(value):,}"
        return f"{value.quantize(CENT, ROUND_HALF_UP):,}"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return shown(value, TABLE_CELL_CHARACTERS)


@dataclass
class _Column:
    header: str
    cells: list[str]
    numeric: bool
    priority: float  # higher is kept longer
    prose: bool = False  # cells with spaces: they wrap between words
    width: int = 0

    @property
    def natural(self) -> int:
        return max([len(self.header), *(len(c) for c in self.cells)])

    def minimum(self, wrap_header: bool) -> int:
        """The narrowest this column may be: its numbers whole, single words up to
        `MAX_WORD_WIDTH`, prose down to `MIN_TEXT_WIDTH`; its header whole unless
        `wrap_header` (then its longest part between underscores)."""
        if wrap_header:
            head = max(len(t) for t in _header_tokens(self.header)) if self.header else 1
        else:
            head = len(self.header)
        if self.numeric or self.priority == float("inf"):
            return max([head, *(min(len(c), MAX_WORD_WIDTH) for c in self.cells)])
        if not self.prose:
            return min(self.natural, max(head, MAX_WORD_WIDTH))
        return min(self.natural, max(head, MIN_TEXT_WIDTH))


def _header_tokens(header: str) -> list[str]:
    """A header split after its underscores (where it may wrap)."""
    parts = header.replace("_", "_\n").split("\n")
    return [p for p in parts if p] or [header]


def _wrap_header(header: str, width: int) -> list[str]:
    lines: list[str] = []
    for token in _header_tokens(header):
        if lines and len(lines[-1]) + len(token) <= width:
            lines[-1] += token
        else:
            lines.extend(textwrap.wrap(token, width) or [""])
    return lines


def _columns(frame: pl.DataFrame) -> list[_Column]:
    flat = _flatten(frame)
    out = []
    for position, (name, dtype) in enumerate(flat.schema.items()):
        kind = measure(name)
        cells = [cell(v, kind) for v in flat[name].to_list()]
        numeric = dtype.is_numeric() or (
            kind in ("money", "price")
            and dtype == pl.String
            and all(to_decimal(v) is not None for v in flat[name].drop_nulls().to_list())
        )
        distinct = len(set(cells))
        if position == 0:
            priority = float("inf")
        elif distinct == 1 and cells[0] == "":
            priority = 0.0  # empty in every row
        elif distinct == 1 and len(cells) > 1 and not numeric:
            priority = 1.0  # the same text in every row (a currency, the month)
        else:
            weight = 4.0 if name in IMPORTANT else 3.0 if numeric else 2.0
            priority = weight - position / 1000
        prose = any(" " in c for c in cells)
        header = shown(name, TABLE_CELL_CHARACTERS)
        out.append(_Column(header, cells, numeric, priority, prose))
    return out


def _total(columns: list[_Column], widths: list[int]) -> int:
    return sum(widths) + GAP * (len(columns) - 1)


def _narrowed(columns: list[_Column], width: int, wrap_header: bool) -> list[int]:
    """Widths narrowed (the widest column that may narrow, one character at a time) until the
    columns fit `width` or none may narrow further."""
    widths = [c.natural for c in columns]
    narrowest = [c.minimum(wrap_header) for c in columns]
    while _total(columns, widths) > width:
        room = [i for i in range(len(columns)) if widths[i] > narrowest[i]]
        if not room:
            break
        widths[max(room, key=lambda i: widths[i])] -= 1
    return widths


def fit(columns: list[_Column], width: int) -> tuple[list[_Column], list[_Column]]:
    """The columns to show, each with its width, within `width`; and those left out.

    Text wraps first, then headers (at their underscores); only then are the lowest-priority
    columns left out, one at a time."""
    shown_columns = list(columns)
    dropped: list[_Column] = []
    while True:
        for wrap_header in (False, True):
            widths = _narrowed(shown_columns, width, wrap_header)
            if _total(shown_columns, widths) <= width:
                break
        if _total(shown_columns, widths) <= width or len(shown_columns) == 1:
            for column, w in zip(shown_columns, widths, strict=True):
                column.width = min(w, width)
            return shown_columns, dropped
        lowest = min(range(len(shown_columns)), key=lambda i: shown_columns[i].priority)
        dropped.append(shown_columns.pop(lowest))


def _block(values: list[list[str]], columns: list[_Column]) -> list[str]:
    """One table row (each cell already wrapped into lines) as text lines."""
    height = max(len(v) for v in values)
    lines = []
    for i in range(height):
        parts = []
        for lines_of_cell, column in zip(values, columns, strict=True):
            text = lines_of_cell[i] if i < len(lines_of_cell) else ""
            parts.append(text.rjust(column.width) if column.numeric else text.ljust(column.width))
        lines.append((" " * GAP).join(parts).rstrip())
    return lines


def _wrap(text: str, width: int) -> list[str]:
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def format_table(frame: pl.DataFrame, width: int | None = None) -> str:
    """`frame` as an aligned text table no wider than `width` (default: the terminal's)."""
    width = terminal_width() if width is None else width
    if not frame.width:
        return ""
    shown_columns, dropped = fit(_columns(frame), width)
    out = _block([_wrap_header(c.header, c.width) for c in shown_columns], shown_columns)
    out.append((" " * GAP).join("-" * c.width for c in shown_columns))
    for row in range(frame.height):
        out.extend(_block([_wrap(c.cells[row], c.width) for c in shown_columns], shown_columns))
    if dropped:
        names = ", ".join(c.header for c in dropped)
        note = f"(columns not shown: {names}; use --format csv or json for all)"
        out.extend(textwrap.wrap(note, width))
    return "\n".join(out)


def format_frame(frame: pl.DataFrame, fmt: str, width: int | None = None) -> str:
    """Render `frame` as `table` (aligned text within `width`), `json` (an array of objects,
    `roi.documents`'s contract) or `csv`."""
    if fmt == "json":
        return json.dumps(records(frame), indent=2, ensure_ascii=False)
    if fmt == "csv":
        flat = _flatten(frame)
        text = [c for c, t in flat.schema.items() if t == pl.String]
        guarded = flat.with_columns(
            pl.when(pl.any_horizontal(pl.col(c).str.starts_with(s) for s in FORMULA_STARTS))
            .then(pl.lit("'") + pl.col(c))
            .otherwise(pl.col(c))
            .alias(c)
            for c in text
        )
        return guarded.write_csv().rstrip("\n")
    return format_table(frame, width)
