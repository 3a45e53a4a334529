"""Chart axes and labels a finance reader reads: a log axis labelled at every decade, driver
ranges in money, factors and shares (never `value (2189.539 to 4325.32)`)."""

from __future__ import annotations

import re
from html import unescape

import polars as pl

from roi.charting import spec, svg_to_png, to_png, to_svg
from roi.reporting.charts import decades, exceedance
from roi.scenarios.sensitivity import chart, driver_label


def _texts(svg: str) -> list[str]:
    return [unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_decades_cover_the_whole_range() -> None:
    assert decades([12_000.0, 3_800_000.0]) == [1e4, 1e5, 1e6, 1e7]
    assert decades([1_000.0, 100_000.0]) == [1e3, 1e4, 1e5]
    assert decades([0.0, 50.0]) == [10.0, 100.0]


def test_the_loss_exceedance_axis_is_labelled_at_every_decade() -> None:
    # A curve from 12,000 to a P99 of 3.8 million: labels at 10,000 … 10,000,000.
    points = [
        {"loss": loss, "probability": p}
        for loss, p in [(12_000.0, 0.99), (200_000.0, 0.5), (900_000.0, 0.05), (3_800_000.0, 0.01)]
    ]
    svg = to_svg(spec(exceedance(points, "USD", "Loss exceedance")))
    texts = _texts(svg)
    for label in ("10,000", "100,000", "1,000,000", "10,000,000"):
        assert label in texts, (label, texts)
    assert "20,000" not in texts and "200,000" not in texts  # decades only


def test_sensitivity_labels_read_as_money_factors_and_shares() -> None:
    assert driver_label("value", 2189.539, 4325.32, "USD") == "Value (2,189.54 to 4,325.32 USD)"
    assert driver_label("gpu_price", 0.8, 1.2) == "GPU price (×0.80 to ×1.20)"
    assert driver_label("utilization", 0.42, 0.62) == "GPU utilization (42% to 62%)"
    assert driver_label("metric_change", -1.0, 1.0) == "Metric change (−1.00 to +1.00 points)"
    frame = pl.DataFrame(
        {
            "driver": ["value", "traffic"],
            "low": [2189.539, 0.8],
            "high": [4325.32, 1.2],
            "roi_at_low": [0.5, 0.9],
            "roi_at_high": [2.0, 1.1],
            "swing": [1.5, 0.2],
        }
    )
    texts = _texts(to_svg(chart(frame, 1.0, "ROI by driver", "USD")))
    assert "Value (2,189.54 to 4,325.32 USD)" in texts and "Traffic (×0.80 to ×1.20)" in texts
    assert not any("2189.539" in t for t in texts)


def test_a_chart_drawn_as_svg_rasterises_to_the_same_png_as_its_spec() -> None:
    points = [{"loss": 1_000.0, "probability": 0.9}, {"loss": 50_000.0, "probability": 0.1}]
    drawn = spec(exceedance(points, "USD", "Loss exceedance"))
    png = svg_to_png(to_svg(drawn))
    assert png.startswith(b"\x89PNG") and png == to_png(drawn)
