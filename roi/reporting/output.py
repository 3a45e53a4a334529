"""Data output for the CLI: a Polars frame as an aligned text table, JSON or CSV.

Text from data is untrusted (`roi.text`): in a table its control and direction characters show
as symbols (a tag cannot ring the terminal, move the cursor or break a row) and very long values
are shortened in the middle; in CSV, text a spreadsheet would run as a formula starts with `'`.
JSON carries every value unchanged (its escaping makes it safe).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import polars as pl

from roi.documents import plain, records
from roi.text import FORMULA_STARTS, shown

TABLE_CELL_CHARACTERS = 200
FORMATS = ("table", "json", "csv")


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (lists, maps, structs) as JSON text, for CSV and tables."""
    nested = [c for c, t in frame.schema.items() if t.is_nested()]
    if not nested:
        return frame
    return frame.with_columns(
        pl.Series(c, [json.dumps(plain(v)) if v is not None else None for v in frame[c].to_list()])
        for c in nested
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if value.as_tuple().exponent == 0:
            return f"{int(value):,}"
        return (
            f"{value.quantize(Decimal('0.01')):,}"
            if abs(value) >= Decimal("0.01")
            else str(value.normalize())
        )
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return shown(value, TABLE_CELL_CHARACTERS)


def format_frame(frame: pl.DataFrame, fmt: str) -> str:
    """Render `frame` as `table` (aligned text), `json` (array of objects) or `csv`."""
    if fmt == "json":
        return json.dumps(records(frame), indent=2, ensure_ascii=False)
    flat = _flatten(frame)
    if fmt == "csv":
        text = [c for c, t in flat.schema.items() if t == pl.String]
        guarded = flat.with_columns(
            pl.when(pl.any_horizontal(pl.col(c).str.starts_with(s) for s in FORMULA_STARTS))
            .then(pl.lit("'") + pl.col(c))
            .otherwise(pl.col(c))
            .alias(c)
            for c in text
        )
        return guarded.write_csv().rstrip("\n")
    numeric = [t.is_numeric() for t in frame.schema.values()]
    cells = [[_cell(v) for v in row] for row in flat.iter_rows()]
    header = [shown(c, TABLE_CELL_CHARACTERS) for c in flat.columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(header), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)
