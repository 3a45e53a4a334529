"""Sensitivity: a model's ROI over each driver's low and high, one at a time (the tornado).

Each driver of `roi.scenarios.whatif` that applies to the model is set to its low and then its
high value with every other driver at the baseline; the ROI at each end and the swing
(|high − low|) are recorded and the rows ordered by swing, largest first
(../shared/reference/methods.md §8). Default ranges (`DEFAULT_RANGES`) are ±20% for prices and
traffic, ±10% for unit values, ±0.1 of GPU utilization, ±1 metric point, and the value's own
interval where its method gives one; `--range driver=low:high` replaces one. The chart is an
Altair bar per driver from the ROI at its low to the ROI at its high, around the baseline ROI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from roi.context import Context
from roi.scenarios import Scenario, register
from roi.scenarios.baseline import Baseline, ScenarioError, baselines, model_config
from roi.scenarios.runs import Computed, ScenarioRun, fingerprint, run
from roi.scenarios.whatif import DRIVERS, apply
from roi.warehouse import Connection

if TYPE_CHECKING:  # Altair and the renderer load with the chart, not with every scenario
    import altair as alt

DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "gpu_price": (0.8, 1.2),
    "token_price": (0.8, 1.2),
    "traffic": (0.8, 1.2),
    "unit_value": (0.9, 1.1),
    "metric_change": (-1.0, 1.0),
}
RANGED = (*DEFAULT_RANGES, "utilization", "value")


def _roi(base: dict[str, Baseline], model_id: str, driver: str, value: float) -> float | None:
    if driver == "value":
        b = base[model_id]
        ratio = value / b.value if b.value else 0.0
        state = apply(base, [("unit_value", model_id, repr(ratio))])
    else:
        state = apply(base, [(driver, model_id, repr(value))])
    figures = state[model_id]
    if figures.value is None or not figures.cost:
        return None
    return (figures.value - figures.cost) / figures.cost


def ranges(
    base: Baseline, overrides: dict[str, tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    """The drivers that move this model's ROI, each with its (low, high)."""
    out: dict[str, tuple[float, float]] = {}
    if base.costs["gpu"]:
        out["gpu_price"] = DEFAULT_RANGES["gpu_price"]
        if base.gpu_efficiency:
            e = base.gpu_efficiency
            out["utilization"] = (max(e - 0.1, 0.05), min(e + 0.1, 1.0))
    if base.costs["api"]:
        out["token_price"] = DEFAULT_RANGES["token_price"]
    out["traffic"] = DEFAULT_RANGES["traffic"]
    out["unit_value"] = DEFAULT_RANGES["unit_value"]
    if base.value_per_point is not None:
        out["metric_change"] = DEFAULT_RANGES["metric_change"]
    if base.value_low is not None and base.value_high is not None:
        out["value"] = (base.value_low, base.value_high)
    for name, bounds in overrides.items():
        if name not in RANGED:
            raise ScenarioError(
                f"--range {name}: unknown driver; drivers with ranges: {', '.join(RANGED)}"
            )
        out[name] = bounds
    return out


def parse_ranges(texts: list[str]) -> dict[str, tuple[float, float]]:
    """`driver=low:high` → {driver: (low, high)}."""
    out = {}
    for text in texts:
        name, _, bounds = text.partition("=")
        low, sep, high = bounds.partition(":")
        try:
            pair = (float(low), float(high))
        except ValueError:
            raise ScenarioError(
                f"--range {text}: write driver=low:high, e.g. gpu_price=0.7:1.3"
            ) from None
        if not sep or pair[0] > pair[1]:
            raise ScenarioError(f"--range {text}: write driver=low:high with low <= high")
        out[name] = pair
    return out


def tornado(
    base: dict[str, Baseline], model_id: str, overrides: dict[str, tuple[float, float]]
) -> tuple[float | None, pl.DataFrame]:
    """(baseline ROI, one row per driver: low, high, ROI at each, swing), largest swing first."""
    b = base[model_id]
    if b.value is None:
        raise ScenarioError(f"{model_id} has no value for {b.month:%Y-%m}: no ROI to vary")
    roi = (b.value - b.cost) / b.cost if b.cost else None
    rows = []
    for driver, (low, high) in ranges(b, overrides).items():
        assert driver in DRIVERS or driver == "value"
        at_low, at_high = _roi(base, model_id, driver, low), _roi(base, model_id, driver, high)
        rows.append(
            {
                "driver": driver,
                "low": low,
                "high": high,
                "roi_at_low": at_low,
                "roi_at_high": at_high,
                "swing": None if at_low is None or at_high is None else abs(at_high - at_low),
            }
        )
    frame = pl.DataFrame(rows, infer_schema_length=None).sort(
        "swing", descending=True, nulls_last=True
    )
    return roi, frame


DRIVER_NAMES = {
    "gpu_price": "GPU price",
    "token_price": "Token price",
    "traffic": "Traffic",
    "unit_value": "Value per unit",
    "metric_change": "Metric change",
    "utilization": "GPU utilization",
    "value": "Value",
}


def driver_label(driver: str, low: float, high: float, currency: str = "") -> str:
    """A driver and its range as a reader reads it: money for the value (`Value 2,189.54 to
    4,325.32 USD`), a factor for prices, traffic and unit value (`×0.80 to ×1.20`), a share for
    utilization and metric points for a metric change."""
    name = DRIVER_NAMES.get(driver, driver.replace("_", " ").capitalize())
    if driver == "value":
        shown = f"{low:,.2f} to {high:,.2f} {currency}".rstrip()
    elif driver == "utilization":
        shown = f"{low:.0%} to {high:.0%}"
    elif driver == "metric_change":
        shown = f"{low:+,.2f} to {high:+,.2f} points"
    elif driver in DEFAULT_RANGES:
        shown = f"×{low:,.2f} to ×{high:,.2f}"
    else:
        shown = f"{low:,.2f} to {high:,.2f}"
    return f"{name} ({shown.replace('-', '−')})"


def chart(
    frame: pl.DataFrame, roi: float | None, title: str, currency: str = ""
) -> alt.TopLevelMixin:
    """The tornado: a bar per driver from ROI at low to ROI at high, the baseline as a rule."""
    import altair as alt

    labels = [
        driver_label(r["driver"], r["low"], r["high"], currency)
        for r in frame.iter_rows(named=True)
    ]
    data = frame.with_columns(
        left=pl.min_horizontal("roi_at_low", "roi_at_high"),
        right=pl.max_horizontal("roi_at_low", "roi_at_high"),
        label=pl.Series(labels, dtype=pl.String),
    ).to_pandas()
    order = data["label"].tolist()
    bars = (
        alt.Chart(data)
        .mark_bar(color="#3056d3")
        .encode(
            x=alt.X("left:Q", title="ROI (net / cost)", axis=alt.Axis(format="%")),
            x2="right:Q",
            y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=400)),
            tooltip=["driver", "low", "high", "roi_at_low", "roi_at_high"],
        )
    )
    layers: list[alt.Chart] = [bars]
    if roi is not None:
        layers.append(
            alt.Chart(pl.DataFrame({"roi": [roi]}).to_pandas())
            .mark_rule(color="#b42318")
            .encode(x="roi:Q")
        )
    layered: alt.TopLevelMixin = alt.layer(*layers).properties(
        title=title, width=520, height=28 * max(len(order), 1)
    )
    return layered


def write_chart(layered: alt.TopLevelMixin, out: Path, stem: str) -> list[Path]:
    """The chart as PNG and SVG files in `out`."""
    from roi.charting import to_png, to_svg

    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{stem}.png", out / f"{stem}.svg"
    png.write_bytes(to_png(layered))
    svg.write_text(to_svg(layered), encoding="utf-8")
    return [png, svg]


@dataclass(frozen=True)
class SensitivityOptions:
    """`roi scenario sensitivity`: a model, driver ranges to replace, a month, a folder."""

    model: str
    ranges: tuple[str, ...] = ()
    month: date | None = None
    out: Path | None = None


def run_sensitivity(ctx: Context, options: SensitivityOptions) -> ScenarioRun:
    """The tornado of one model's ROI, as a table and a chart (PNG and SVG)."""
    model, ranges = options.model, list(options.ranges)
    model_config(ctx.project, model)
    overrides = parse_ranges(ranges)

    def compute(con: Connection) -> Computed:
        base = baselines(con, ctx.project, options.month)
        roi, table = tornado(base, model, overrides)
        b = base[model]
        folder = options.out or ctx.project.root / ctx.project.project.reports_out
        files = write_chart(
            chart(
                table,
                roi,
                f"{b.name}: ROI by driver, {b.month:%B %Y}",
                ctx.project.project.currency,
            ),
            folder,
            f"sensitivity_{model}_{b.month:%Y-%m}",
        )
        inputs = {"model": model, "ranges": ranges, **fingerprint(con, base)}
        outputs = {"model_id": model, "month": b.month, "roi": roi, "drivers": table.to_dicts()}
        return Computed(inputs, outputs, table.with_columns(baseline_roi=pl.lit(roi)), files)

    return run(ctx, f"sensitivity {model}", None, compute)


register(Scenario("sensitivity", SensitivityOptions, run_sensitivity))
