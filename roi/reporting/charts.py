"""Charts of the monthly report: Altair specs rendered to SVG (and PNG) by vl-convert."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl
import vl_convert as vlc

from roi.reporting.figures import MonthlyFigures

UNALLOCATED_LABEL = "Unallocated"


def _label(model_id: str, name: str) -> str:
    if model_id == "__unallocated__":
        return UNALLOCATED_LABEL
    if model_id == "__idle__":
        return "Idle GPU"
    return name


def trend_chart(figures: MonthlyFigures) -> alt.Chart:
    """Stacked monthly cost per model over the trend window."""
    data = figures.trend.select(
        pl.col("month").dt.strftime("%Y-%m").alias("month"),
        pl.struct("model_id", "model_name")
        .map_elements(lambda r: _label(r["model_id"], r["model_name"]), return_dtype=pl.String)
        .alias("model"),
        pl.col("amount").cast(pl.Float64).round(2).alias("amount"),
    )
    values: list[dict[str, Any]] = data.to_dicts()
    chart: alt.Chart = (
        alt.Chart(alt.Data(values=values))  # type: ignore[no-untyped-call]
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=None),
            y=alt.Y(
                "sum(amount):Q",
                title=f"Effective cost ({figures.currency})",
                axis=alt.Axis(format=",.0f"),
            ),
            color=alt.Color(
                "model:N",
                title="Model",
                scale=alt.Scale(scheme="tableau20"),
                legend=alt.Legend(labelLimit=260),
            ),
            order=alt.Order("model:N"),
            tooltip=["month:O", "model:N", alt.Tooltip("amount:Q", format=",.2f")],
        )
        .properties(width=640, height=300, title="Cost per model, by month")
    )
    return chart


def model_chart(figures: MonthlyFigures) -> alt.Chart:
    """Horizontal bars: this month's cost per model, unallocated included."""
    data = figures.by_model.filter(pl.col("amount") != 0).select(
        pl.struct("model_id", "name")
        .map_elements(lambda r: _label(r["model_id"], r["name"]), return_dtype=pl.String)
        .alias("model"),
        pl.col("amount").cast(pl.Float64).round(2).alias("amount"),
    )
    chart: alt.Chart = (
        alt.Chart(alt.Data(values=data.to_dicts()))  # type: ignore[no-untyped-call]
        .mark_bar()
        .encode(
            y=alt.Y("model:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X(
                "amount:Q",
                title=f"Effective cost ({figures.currency})",
                axis=alt.Axis(format=",.0f"),
            ),
            color=alt.condition(
                alt.datum.model == UNALLOCATED_LABEL, alt.value("#bab0ac"), alt.value("#4c78a8")
            ),
            tooltip=["model:N", alt.Tooltip("amount:Q", format=",.2f")],
        )
        .properties(
            width=640,
            height=max(120, 22 * data.height),
            title=f"Cost per model, {figures.month:%B %Y}",
        )
    )
    return chart


def to_svg(chart: alt.Chart) -> str:
    """Render a chart to an SVG document."""
    return str(vlc.vegalite_to_svg(chart.to_json()))


def to_png(chart: alt.Chart, scale: float = 2.0) -> bytes:
    """Render a chart to PNG bytes (for the Excel pack)."""
    return bytes(vlc.vegalite_to_png(chart.to_json(), scale=scale))
