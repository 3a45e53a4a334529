"""JSON-ready documents: query results and command results as plain data (decimals as numbers,
dates as ISO text), the shape `--format json` prints."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import polars as pl


def plain(value: Any) -> Any:
    """A value as JSON-ready data."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows of `frame` as JSON-ready objects (decimals as numbers, dates as ISO text)."""
    return [{k: plain(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]
