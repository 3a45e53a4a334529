"""Parsing text columns: repeated values (days in a month of lines) are parsed once each and
give what parsing every row gives, rejects included."""

from __future__ import annotations

import polars as pl

from roi.loading.parsing import parse_columns, per_distinct


def _lines(days: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "day": days,
            "source_file": ["bill.csv"] * len(days),
            "source_row": list(range(2, len(days) + 2)),
        },
        schema={"day": pl.String, "source_file": pl.String, "source_row": pl.Int64},
    )


def test_a_repeated_value_is_computed_once_and_spread_back() -> None:
    frame = _lines(["2026-10-01", "2026-10-02", None, "10/03/2026"] * 50)
    expression = pl.col("day").str.to_date("%Y-%m-%d", strict=False)
    spread = frame.select(per_distinct(frame, "day", expression))
    assert spread.equals(frame.select(expression))
    assert spread["day"].null_count() == 100  # the blank and the US spelling


def test_dates_parsed_per_distinct_value_reject_the_rows_a_row_by_row_parse_rejects() -> None:
    days = ["2026-10-01", "2026-10-32", None, "2026-10-02T05:00:00Z"] * 50
    parsed = parse_columns(_lines(days), {"day": "date"})
    one_by_one = parse_columns(_lines(days[:4]), {"day": "date"})  # too few to repeat
    assert parsed.frame["day"].to_list() == one_by_one.frame["day"].to_list() * 50
    assert parsed.rejects["source_row"].to_list() == list(range(3, 202, 4))
    assert one_by_one.rejects["value"].to_list() == ["2026-10-32"]
    assert parsed.rejects["reason"].unique().to_list() == ["not a date; use YYYY-MM-DD"]
