"""Rendering a chart: an Altair chart (or its Vega-Lite spec) to SVG and PNG with vl-convert.

The reports and the scenario commands (the sensitivity tornado) draw through it.
"""

from __future__ import annotations

from typing import Any

import vl_convert as vlc

# One font for measuring (vl-convert lays the chart out) and for drawing (the browser, the
# PDF): with different fonts, labels measured narrow are drawn wide and get cut.
FONT = "DejaVu Sans"


def spec(chart: Any) -> dict[str, Any]:
    """The chart's Vega-Lite spec (built without re-validating it against the schema: the
    builders here only make valid charts, and validation costs half a second a chart)."""
    built: dict[str, Any] = chart.to_dict(validate=False)
    return built


def to_svg(chart: Any) -> str:
    """Render a chart (or its spec) to an SVG document."""
    return str(vlc.vegalite_to_svg(chart if isinstance(chart, dict) else spec(chart)))


def to_png(chart: Any, scale: float = 2.0) -> bytes:
    """Render a chart (or its spec) to PNG bytes."""
    return bytes(
        vlc.vegalite_to_png(chart if isinstance(chart, dict) else spec(chart), scale=scale)
    )


def svg_to_png(svg: str, scale: float = 2.0) -> bytes:
    """Rasterise a chart already drawn as SVG: the same PNG bytes as `to_png` of its spec,
    without laying the chart out a second time."""
    return bytes(vlc.svg_to_png(svg, scale=scale))
