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


def test_utc_times_parse_alike_whichever_spelling_the_column_uses() -> None:
    whole = ["2026-10-01T08:00:00Z", None, " 2026-10-31T23:59:59Z"]
    mixed = [*whole, "2026-10-02T10:00:00.250+02:00", "2026-10-03 04:05:06"]
    for times in (whole * 20, mixed * 20):  # repeated: the per-distinct path too
        fast = parse_columns(_lines(times).rename({"day": "ts"}), {"ts": "utc"})
        each = [
            parse_columns(_lines([t]).rename({"day": "ts"}), {"ts": "utc"}).frame["ts"][0]
            for t in times[: len(times) // 20]
        ]
        assert fast.frame["ts"].to_list() == each * 20
        assert fast.rejects.height == 0
    assert fast.frame["ts"].dtype == pl.Datetime("us", "UTC")
    assert str(fast.frame["ts"][3]) == "2026-10-02 08:00:00.250000+00:00"
