"""Charts: Altair specs rendered by vl-convert, inline SVG in the HTML and PNG + SVG files.

Finance conventions throughout: currency axes with thousands separators (`,.0f`, never SI
"G" or "k"), full labels (no truncation), the top N models plus "Other models", unallocated and
idle apart from the models (greys, stacked last), and one colour per model in every chart
(`ReportData.colours`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from roi.charting import FONT, spec, svg_to_png, to_svg
from roi.reporting.html import escape
from roi.reporting.renderer import Drawn
from roi.vocabulary import OTHER

if TYPE_CHECKING:  # imported where a chart is built: the Excel pack builds none
    import altair as alt

# Starts drawing Vega-Lite specs; the function it returns waits for (each as SVG, as PNG).
Start = Callable[[list[dict[str, Any]]], Drawn]
CURRENCY_AXIS = ",.0f"
WIDTH = 680


def draw_here(specs: list[dict[str, Any]]) -> Drawn:
    """Draw the specs in this process, when waited for (each as SVG, each SVG as PNG)."""
    return lambda: _draw(specs)


def _draw(specs: list[dict[str, Any]]) -> tuple[list[str], list[bytes]]:
    svgs = [to_svg(s) for s in specs]
    return svgs, [svg_to_png(svg) for svg in svgs]


@dataclass
class Charts:
    """The charts of one report: inlined as SVG, and written as PNG and SVG files.

    `inline` leaves a placeholder and starts drawing the chart (`start`: in the report's
    renderer process, while the next sections are built; by default here, when waited for);
    `render` waits for every drawing and puts each SVG in its place.
    """

    start: Start = draw_here
    charts: dict[str, Any] = field(default_factory=dict)
    alts: dict[str, str] = field(default_factory=dict)
    svgs: dict[str, str] = field(default_factory=dict)
    pngs: dict[str, bytes] = field(default_factory=dict)
    started: dict[str, Drawn] = field(default_factory=dict)

    def inline(self, name: str, chart: Any, alt_text: str) -> str:
        """A placeholder for the chart in a figure, drawn by `render`."""
        self.charts[name] = spec(chart.configure(font=FONT))
        self.alts[name] = alt_text
        self.started[name] = self.start([self.charts[name]])
        return f"\x00chart:{name}\x00"

    def render(self, html: str) -> str:
        """Wait for every chart's drawing (SVG and PNG) and put the SVGs in place of their
        placeholders."""
        for name, started in self.started.items():
            [svg], [png] = started()
            self.svgs[name], self.pngs[name] = svg, png
            body = svg[svg.index("<svg") :] if "<svg" in svg else svg
            figure = (
                f'<figure class="chart" id="chart-{escape(name)}" role="img" '
                f'aria-label="{escape(self.alts[name])}">{body}</figure>'
            )
            html = html.replace(f"\x00chart:{name}\x00", figure)
        return html

    def write(self, folder: Path) -> list[Path]:
        """Every chart as `<name>.png` and `<name>.svg` in `folder` (after `render`)."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in self.charts:
            png, svg = folder / f"{name}.png", folder / f"{name}.svg"
            png.write_bytes(self.pngs[name])
            svg.write_text(self.svgs[name], encoding="utf-8")
            written += [png, svg]
        return written


PRINT_ROWS = 30


def _shorten(match: Any) -> str:
    body = str(match.group(1))
    rows = re.findall(r"<tr[ >].*?</tr>", body, flags=re.S)
    totals = [r for r in rows if r.startswith('<tr class="total"')]
    plain = [r for r in rows if not r.startswith('<tr class="total"')]
    if len(plain) <= PRINT_ROWS:
        return str(match.group(0))
    columns = plain[0].count("<td")
    more = (
        f'<tr><td colspan="{columns}" class="note">… {len(plain) - PRINT_ROWS:,} more rows: '
        "every row is in the HTML report and the Excel pack</td></tr>"
    )
    return "<tbody>" + "".join(plain[:PRINT_ROWS]) + more + "".join(totals) + "</tbody>"


def _shorten_list(match: Any) -> str:
    items = re.findall(r"<li>.*?</li>", str(match.group(1)), flags=re.S)
    if len(items) <= PRINT_ROWS:
        return str(match.group(0))
    more = (
        f'<li class="note">… {len(items) - PRINT_ROWS:,} more: every one is in the HTML report</li>'
    )
    return "<ul>" + "".join(items[:PRINT_ROWS]) + more + "</ul>"


def for_print(html: str, pictures: dict[str, Path]) -> str:
    """The page for the PDF: charts as their PNG files (the PDF engine draws pictures far
    faster than thousands of SVG text nodes, and reads a file faster than the same picture
    inlined as base64 text), no collapsed details, and tables and lists of more than
    `PRINT_ROWS` rows cut there (tables with their totals), so a 200-model portfolio prints as a
    report, not a listing."""
    from html import escape as html_escape

    def picture(match: re.Match[str]) -> str:
        name = match.group(1)
        source = html_escape(pictures[name].resolve().as_uri()) if name in pictures else ""
        image = f'<img style="max-width:100%" src="{source}">'
        return f'<figure class="chart">{image}</figure>'

    html = re.sub(
        r'<figure class="chart" id="chart-([a-z0-9_]+)".*?</figure>', picture, html, flags=re.S
    )
    html = re.sub(r"<details>.*?</details>", "", html, flags=re.S)
    html = re.sub(r"<tbody>(.*?)</tbody>", _shorten, html, flags=re.S)
    return re.sub(r"<ul>(.*?)</ul>", _shorten_list, html, flags=re.S)


def _scale(domain: list[str], colours: dict[str, str], labels: dict[str, str]) -> alt.Scale:
    import altair as alt

    return alt.Scale(
        domain=[labels.get(d, d) for d in domain], range=[colours.get(d, "#777") for d in domain]
    )


def top_models(frame: pl.DataFrame, value: str, keep: int, sentinels: tuple[str, ...]) -> list[str]:
    """The `keep` models with the largest total `value` (sentinels never count)."""
    totals = (
        frame.filter(~pl.col("model_id").is_in([*sentinels, OTHER]))
        .group_by("model_id")
        .agg(pl.col(value).sum())
        .sort([value, "model_id"], descending=[True, False])
    )
    return totals["model_id"].head(keep).to_list()


def stacked_cost(
    frame: pl.DataFrame,
    keep: list[str],
    sentinels: tuple[str, ...],
    colours: dict[str, str],
    labels: dict[str, str],
    currency: str,
    title: str,
) -> alt.Chart:
    """Monthly cost stacked by model: the top models, "Other models", then idle and unallocated."""
    import altair as alt

    folded = frame.with_columns(
        series=pl.when(pl.col("model_id").is_in(keep))
        .then(pl.col("model_id"))
        .when(pl.col("model_id").is_in(list(sentinels)))
        .then(pl.col("model_id"))
        .otherwise(pl.lit(OTHER))
    )
    order = [*keep, OTHER, *sentinels]
    data = (
        folded.group_by("month", "series")
        .agg(pl.col("amount").sum().cast(pl.Float64).round(2))
        .with_columns(
            month=pl.col("month").dt.strftime("%Y-%m"),
            label=pl.col("series").replace_strict(labels, default=pl.col("series")),
            rank=pl.col("series").replace_strict({s: i for i, s in enumerate(order)}, default=99),
        )
        .sort("month", "rank", "series")  # the same inputs draw the same SVG
    )
    present = [s for s in order if s in set(data["series"])]
    chart: alt.Chart = (
        alt.Chart(alt.Data(values=data.to_dicts()))  # type: ignore[no-untyped-call]
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=None),
            y=alt.Y(
                "sum(amount):Q", title=f"Cost ({currency})", axis=alt.Axis(format=CURRENCY_AXIS)
            ),
            color=alt.Color(
                "label:N",
                title=None,
                scale=_scale(present, colours, labels),
                sort=[labels.get(s, s) for s in present],
                legend=alt.Legend(labelLimit=420, orient="right"),
            ),
            order=alt.Order("rank:Q"),
            tooltip=["month:O", "label:N", alt.Tooltip("amount:Q", format=",.2f")],
        )
        .properties(width=WIDTH - 200, height=280, title=title)
    )
    return chart


def horizontal_bars(
    rows: list[dict[str, Any]],
    value: str,
    colours: dict[str, str],
    currency: str,
    title: str,
    axis_title: str | None = None,
) -> alt.Chart:
    """One bar per row (`label`, `key` for its colour, `value`), largest first, full labels."""
    import altair as alt

    chart: alt.Chart = (
        alt.Chart(alt.Data(values=rows))  # type: ignore[no-untyped-call]
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=420)),
            x=alt.X(
                f"{value}:Q",
                title=axis_title or f"Cost ({currency})",
                axis=alt.Axis(format=CURRENCY_AXIS),
            ),
            color=alt.Color(
                "key:N",
                scale=alt.Scale(
                    domain=[r["key"] for r in rows],
                    range=[colours.get(r["key"], "#4e79a7") for r in rows],
                ),
                legend=None,
            ),
            tooltip=["label:N", alt.Tooltip(f"{value}:Q", format=",.2f")],
        )
        .properties(width=WIDTH - 260, height=max(80, 22 * len(rows)), title=title)
    )
    return chart


def lines(
    rows: list[dict[str, Any]],
    y: str,
    series: str,
    colours: dict[str, str],
    title: str,
    y_title: str,
    fmt: str = CURRENCY_AXIS,
) -> alt.Chart:
    """One line per series over months (`month`, `series` label, `key` for its colour)."""
    import altair as alt

    keys = list(dict.fromkeys(r["key"] for r in rows))
    names = list(dict.fromkeys(r[series] for r in rows))
    chart: alt.Chart = (
        alt.Chart(alt.Data(values=rows))  # type: ignore[no-untyped-call]
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title=None),
            y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=fmt)),
            color=alt.Color(
                f"{series}:N",
                title=None,
                scale=alt.Scale(domain=names, range=[colours.get(k, "#4e79a7") for k in keys]),
                legend=alt.Legend(labelLimit=420, orient="right"),
            ),
            tooltip=["month:O", f"{series}:N", alt.Tooltip(f"{y}:Q", format=",.2f")],
        )
        .properties(width=WIDTH - 200, height=240, title=title)
    )
    return chart


def band(
    history: list[dict[str, Any]], future: list[dict[str, Any]], currency: str, title: str
) -> Any:
    """History as a line, the forecast as a line inside its shaded interval."""
    import altair as alt

    base = alt.Chart(alt.Data(values=future))  # type: ignore[no-untyped-call]
    area = base.mark_area(opacity=0.25, color="#4e79a7").encode(
        x=alt.X("month:O", title=None),
        y=alt.Y("lower:Q", title=f"{currency}", axis=alt.Axis(format=CURRENCY_AXIS)),
        y2="upper:Q",
    )
    mean = base.mark_line(strokeDash=[4, 3], color="#4e79a7").encode(x="month:O", y="forecast:Q")
    past = (
        alt.Chart(alt.Data(values=history))  # type: ignore[no-untyped-call]
        .mark_line(point=True, color="#1f2933")
        .encode(
            x="month:O", y="value:Q", tooltip=["month:O", alt.Tooltip("value:Q", format=",.2f")]
        )
    )
    return alt.layer(area, mean, past).properties(width=WIDTH - 120, height=240, title=title)


def decades(values: list[float]) -> list[float]:
    """Every power of ten from the one at or below the smallest positive value to the one at or
    above the largest: the ticks of a log axis, one a decade."""
    import math

    positive = [v for v in values if v is not None and v > 0]
    if not positive:
        return [1.0, 10.0]
    low = math.floor(math.log10(min(positive)) + 1e-9)
    high = math.ceil(math.log10(max(positive)) - 1e-9)
    return [10.0**k for k in range(low, max(high, low + 1) + 1)]


def exceedance(points: list[dict[str, Any]], currency: str, title: str) -> alt.Chart:
    """The loss-exceedance curve: P(annual loss > x) against x on a log axis labelled at every
    decade (1,000, 10,000, 100,000, …) over the whole range of losses."""
    import altair as alt

    ticks = decades([p["loss"] for p in points])
    chart: alt.Chart = (
        alt.Chart(alt.Data(values=points))  # type: ignore[no-untyped-call]
        .mark_line(point=True, color="#b42318")
        .encode(
            x=alt.X(
                "loss:Q",
                title=f"Annual loss ({currency}, log scale)",
                scale=alt.Scale(type="log", domain=[ticks[0], ticks[-1]], nice=False),
                axis=alt.Axis(
                    format=CURRENCY_AXIS, values=ticks, labelOverlap=False, labelAngle=-30
                ),
            ),
            y=alt.Y("probability:Q", title="Probability of exceeding", axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip("loss:Q", format=",.0f"),
                alt.Tooltip("probability:Q", format=".2%"),
            ],
        )
        .properties(width=WIDTH - 120, height=240, title=title)
    )
    return chart


def sparkline(values: list[float | None], colour: str, width: int = 90, height: int = 22) -> str:
    """A tiny inline SVG line of a series (gaps where a value is missing)."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
        for i, v in enumerate(values)
        if v is not None
    )
    zero = ""
    if low < 0 < high:
        y = height - 2 - (0 - low) / span * (height - 4)
        zero = (
            f'<line x1="0" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c7c7c7" '
            'stroke-width="0.5"/>'
        )
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-hidden="true">{zero}<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
        f'points="{points}"/></svg>'
    )
