"""JSON-ready documents: query results and command results as plain data, the shape
`--format json` prints, and what each figure is (money, ROI, a share) by its name.

The JSON contract (the README's "Output formats"):
- money from the warehouse's exact `DECIMAL` columns (cost lines, allocated and unallocated
  costs, reconciliation) is a decimal string equal to the stored value (`"5792.2532332881"`,
  trailing zeros trimmed, at least two decimals);
- money held as a `DOUBLE` (the P&L of `model_roi`, value intervals, scenario results) is a
  decimal string rounded to the cent (`"5792.25"`);
- a price per unit (`unit_cost`, `cost_per_gpu_hour`, `cost_per_1m_tokens`, `value_per_point`)
  is a decimal string rounded to 6 decimals (`"0.003215"`);
- ROI (and other ratios of net to cost) is a decimal string of the ratio rounded to 4 decimals,
  trailing zeros trimmed to two (`"15.9031"` is 1590.31%, `"-1.00"` is −100%);
- counts are integers (an integer is never money: money is a DECIMAL or a DOUBLE); other
  measures (shares, probabilities, quantities) are numbers to 12 significant digits; dates are
  ISO text.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import polars as pl

Measure = Literal["money", "price", "roi", "share"]

CENT = Decimal("0.01")
ROI_PLACES = Decimal("0.0001")
PRICE_PLACES = Decimal("0.000001")  # a price per unit (per prediction, GPU-hour, 1M tokens)
DIGITS = 12  # significant digits of other measures in JSON

MONEY_NAMES = frozenset(
    {
        # P&L and its intervals, ledger amounts, reconciliation
        "cost", "value", "value_low", "value_high", "net", "amount", "billed_amount",
        "billed", "effective", "direct", "shared", "amortized", "idle", "unallocated",
        "difference", "gateway", "before", "after", "change", "npv", "npv_horizon",
        "cumulative_net", "total_cost", "monthly_cost", "unallocated_amount",
        # scenarios
        "expected_annual_loss", "mc_standard_error", "p50", "p90", "p95", "p99", "var",
        "expected_shortfall", "max", "independent_p99", "independent_var",
        "independent_expected_shortfall", "forecast", "lower", "upper", "backtest_mae",
        "decay_loss", "retraining_cost", "yearly_cost", "net_vs_today",
        "value_lost_per_month_of_age", "budget", "saving", "loss", "recent_value",
        "margin_over_today", "annual_turnover", "costs",
    }
)  # fmt: skip
SHARE_NAMES = frozenset(
    {"share", "p_negative", "gpu_efficiency", "utilization", "level", "interval_level"}
)
PRICE_STARTS = ("unit_cost", "unit_value", "cost_per_", "api_per_")
# Names that end like money but count things.
_COUNTS = ("lines", "rows", "count", "files", "months", "requests", "tokens", "conflicts")


def measure(name: str) -> Measure | None:
    """What a figure named `name` is: money, a price per unit, an ROI (net over cost, or a
    change of it) or a share; None else (counts and other measures)."""
    lowered = name.lower()
    if lowered.startswith(PRICE_STARTS) or lowered.endswith("_per_1m_tokens"):
        return "price"
    if lowered == "value_per_point":
        return "price"
    if lowered.endswith(_COUNTS):
        return None
    if lowered in ("roi", "swing") or lowered.endswith("_roi") or lowered.startswith("roi_at_"):
        return "roi"
    if lowered in SHARE_NAMES or lowered.endswith("_share"):
        return "share"
    if lowered in MONEY_NAMES:
        return "money"
    money_parts = ("_cost", "_amount", "_net", "_change")
    if lowered.endswith(money_parts) or lowered.startswith(("cost_", "scenario_", "api_cost")):
        return "money"
    return None


def decimal_text(value: Decimal) -> str:
    """An exact decimal as plain text: no exponent, trailing zeros trimmed to two decimals."""
    text = format(value, "f")
    if "." in text:
        whole, fraction = text.split(".")
        fraction = fraction.rstrip("0").ljust(2, "0")
        text = f"{whole}.{fraction}"
    return text


def _places(value: Decimal) -> int:
    """How many decimal places a (finite) Decimal carries."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 0


def to_decimal(value: Any) -> Decimal | None:
    """A number (or a decimal string) as a Decimal; floats by their shortest repr."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else Decimal(repr(value))
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except ArithmeticError:
            return None
        return parsed if parsed.is_finite() else None
    return None


def _figure(value: Decimal | float | int, kind: Measure | None) -> Any:
    """A number as JSON data, by what it measures (an integer is always a count)."""
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.as_tuple().exponent == 0 and kind is None:
        return int(value)  # an integral DECIMAL (DuckDB's sum of counts) is a count
    exact = to_decimal(value)
    if exact is None:
        return None
    if kind == "money":
        if isinstance(value, Decimal):  # the warehouse's exact decimal, at least to the cent
            return decimal_text(value if _places(value) > 1 else value.quantize(CENT))
        return decimal_text(exact.quantize(CENT, ROUND_HALF_UP))
    if kind == "price":
        if isinstance(value, Decimal):
            return decimal_text(value)
        return decimal_text(exact.quantize(PRICE_PLACES, ROUND_HALF_UP))
    if kind == "roi":
        return decimal_text(exact.quantize(ROI_PLACES, ROUND_HALF_UP))
    if isinstance(value, Decimal):
        return decimal_text(value)
    rounded = float(f"{value:.{DIGITS}g}")
    if kind is None and rounded.is_integer() and abs(rounded) < 2**53:
        return int(rounded)  # a whole number held as a float (a count)
    return rounded


def plain(value: Any, key: str | None = None) -> Any:
    """A value as JSON-ready data; `key`, the name it goes under, says what a number measures
    (see the module's contract)."""
    if isinstance(value, str) and key and measure(key) in ("money", "price"):
        exact = to_decimal(value)  # a decimal already as text: written without an exponent
        return value if exact is None else decimal_text(exact)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal | float | int):
        return _figure(value, measure(key) if key else None)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v, key) for v in value]
    if isinstance(value, dict):
        # A mapping under a money name ({"effective_cost": {"USD": ...}}, a baseline's
        # "costs" by part) holds money under names of its own.
        inherited = key if key is not None and measure(key) == "money" else None
        return {
            str(k): plain(v, str(k) if inherited is None or measure(str(k)) else inherited)
            for k, v in value.items()
        }
    return value


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows of `frame` as JSON-ready objects (see the module's contract)."""
    return [{k: plain(v, k) for k, v in row.items()} for row in frame.iter_rows(named=True)]
