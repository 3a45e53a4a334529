"""The summary's figures and words: the tiles and the month in three sentences.

One headline ROI: net of everything the month cost (all ML spend: the models, unallocated and
idle) over that spend. The Portfolio table's total row counts the models only; the ROI tile
states that figure beside the headline, with the amount that makes the difference (the spend no
model carries). A figure the data cannot give (no earlier month, no budget or forecast, no
model valued) says in one line what is missing and how to add it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from roi.reporting.data import ReportData
from roi.reporting.numbers import money0, percent1, ratio


@dataclass(frozen=True)
class Mover:
    """A model whose cost moved, and why."""

    model_id: str
    label: str
    before: float
    after: float
    why: str


@dataclass(frozen=True)
class Figures:
    """The summary's numbers."""

    spend: float
    previous_spend: float | None
    budget: float | None
    forecast: float | None  # spend forecast for the month from the months before
    value: float | None
    value_low: float | None
    value_high: float | None
    model_cost: float
    movers: list[Mover]
    exposure: dict[str, Any] | None  # portfolio EAL and P95, and the run id
    warnings: list[str]
    valued: int
    models: int
    model_net: float | None = None  # the Portfolio total row: the models' value − their cost
    model_roi: float | None = None  # … over their cost

    @property
    def net(self) -> float | None:
        """Value − all ML spend (None when no model is valued)."""
        return None if self.value is None else self.value - self.spend

    @property
    def roi(self) -> float | None:
        """The headline ROI: net over all ML spend."""
        net = self.net
        return None if net is None or not self.spend else net / self.spend

    @property
    def unmodelled(self) -> float:
        """The spend no model carries: unallocated and idle (and usage no model took)."""
        return self.spend - self.model_cost


def compare(now: float, before: float | None) -> str:
    """`+849 (3.2%)`: the change from `before` (empty without one)."""
    if before in (None, 0):
        return ""
    assert before is not None
    sign = "+" if now >= before else "−"
    return f"{sign}{money0(abs(now - before))} ({percent1((now - before) / before)})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def roi_note(f: Figures, currency: str) -> str:
    """The one line beside the headline ROI: the models-only ROI and why it differs."""
    if f.model_roi is None:
        return "net / all ML spend (models, unallocated and idle)"
    return (
        f"models only {ratio(f.model_roi)}; the difference is the "
        f"{money0(f.unmodelled, currency)} of unallocated and idle cost"
    )


def tile_items(f: Figures, data: ReportData) -> list[tuple[str, str, str]]:
    """The summary tiles: (label, value, the line under it)."""
    cur = data.currency
    file = f"{data.report.name}.toml"
    plan = f.budget if f.budget is not None else f.forecast
    if f.previous_spend is None:
        spend_sub = "no earlier month to compare"
    elif not f.previous_spend:
        spend_sub = "nothing spent last month"
    else:
        spend_sub = compare(f.spend, f.previous_spend) + " vs last month"
    if f.budget is not None:
        plan_tile = ("Budget", money0(plan, cur), compare(f.spend, plan) + " actual vs budget")
    elif f.forecast is not None:
        plan_tile = ("Forecast", money0(plan, cur), compare(f.spend, plan) + " actual vs forecast")
    else:
        plan_tile = ("Budget", "none", f"set [options.budgets] total in reports/{file}")
    no_value = "no model valued: give models a [value] method"
    items = [
        ("ML spend", money0(f.spend, cur), spend_sub),
        plan_tile,
        (
            "Measured value",
            money0(f.value, cur) if f.value is not None else "n/a",
            (
                f"interval {money0(f.value_low)}–{money0(f.value_high)}"
                if f.value_low is not None and f.value_low != f.value_high
                else f"{_plural(f.valued, 'model')} valued of {f.models}"
                if f.value is not None
                else no_value
            ),
        ),
        (
            "Net (all ML spend)",
            money0(f.net, cur) if f.net is not None else "n/a",
            "value − all ML spend" if f.net is not None else no_value,
        ),
        (
            "ROI on all ML spend",
            ratio(f.roi) if f.roi is not None else "n/a",
            roi_note(f, cur) if f.roi is not None else no_value,
        ),
    ]
    if f.exposure:
        eal, p95 = f.exposure["eal"], f.exposure["p95"]
        items.append(("Expected annual loss", money0(eal, cur), f"P95 {money0(p95, cur)}"))
    else:
        items.append(("Expected annual loss", "n/a", "no failure run: roi scenario failure --all"))
    return items


def _first_sentence(f: Figures, data: ReportData) -> str:
    cur = data.currency
    text = f"In {data.month:%B %Y} the ML portfolio cost {money0(f.spend, cur)}"
    bits = []
    if f.previous_spend:
        bits.append(f"{compare(f.spend, f.previous_spend)} on the month before")
    if f.budget is not None:
        bits.append(
            f"{'over' if f.spend > f.budget else 'under'} its {money0(f.budget, cur)} "
            f"budget by {money0(abs(f.spend - f.budget), cur)}"
        )
    elif f.forecast is not None:
        bits.append(
            f"{money0(abs(f.spend - f.forecast), cur)} "
            f"{'above' if f.spend > f.forecast else 'below'} the forecast"
        )
    return text + (f" ({', '.join(bits)})" if bits else "") + "."


def story(f: Figures, data: ReportData) -> str:
    """The month in three sentences."""
    cur = data.currency
    parts = [_first_sentence(f, data)]
    if f.value is not None and f.net is not None:
        interval = (
            f" (interval {money0(f.value_low)}–{money0(f.value_high)})"
            if f.value_low is not None and f.value_low != f.value_high
            else ""
        )
        its = "Its valued model" if f.valued == 1 else f"Its {f.valued} valued models"
        parts.append(
            f"{its} earned {money0(f.value, cur)}{interval}: net of all ML "
            f"spend {money0(f.net, cur)}, ROI {ratio(f.roi)}"
            + (f" ({roi_note(f, cur)})." if f.model_roi is not None else ".")
        )
    if f.movers:
        moves = "; ".join(
            f"{m.label} {'+' if m.after >= m.before else '−'}{money0(abs(m.after - m.before))}"
            + (f" ({m.why})" if m.why else "")
            for m in f.movers
        )
        parts.append(f"Biggest movers: {moves}.")
    if f.exposure:
        parts.append(
            f"Failure exposure: {money0(f.exposure['eal'], cur)} expected a year, "
            f"{money0(f.exposure['p95'], cur)} in a 1-in-20 year (run {f.exposure['run_id']})."
        )
    return " ".join(parts)
