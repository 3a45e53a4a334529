"""Numbers as a reader sees them: the HTML report's text (`money`, `ratio`, ...) and the Excel
pack's number formats (`MONEY`, `PERCENT`, ...).

On the page a negative amount reads `−12,345.67` (a real minus sign); in the pack it is red.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# The pack's number formats.
MONEY = "#,##0.00;[Red]-#,##0.00"
MONEY0 = "#,##0;[Red]-#,##0"
PERCENT = "0.0%"
RATE = "0.00%"
INTEGER = "#,##0"
DECIMAL2 = "#,##0.00"
DECIMAL1 = "#,##0.0"
DECIMAL4 = "0.0000"
MONTH = "mmm yyyy"
DAY = "yyyy-mm-dd"
TIMESTAMP = "yyyy-mm-dd hh:mm"
# Against a budget: signed, never red by sign (over budget is coloured by the cell's format).
VARIANCE = "+#,##0.00;-#,##0.00;0.00"
VARIANCE_SHARE = "+0.0%;-0.0%;0.0%"


def money(value: Any, currency: str = "") -> str:
    """`12,345.67` (and the currency code when given); negative amounts as `−12,345.67`."""
    if value is None:
        return ""
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    text = f"{abs(amount):,.2f}"
    text = f"−{text}" if amount < 0 else text
    return f"{text} {currency}".strip()


def money0(value: Any, currency: str = "") -> str:
    """A whole amount with thousands separators (tiles, where cents are noise)."""
    if value is None:
        return ""
    amount = round(float(value))
    text = f"{abs(amount):,}"
    return (f"−{text}" if amount < 0 else text) + (f" {currency}" if currency else "")


def count(value: Any) -> str:
    """A whole number with thousands separators."""
    return "" if value is None else f"{int(value):,}"


def _signed(text: str) -> str:
    """A formatted number with a real minus sign, and none on a rounded zero (`−0.0%`)."""
    if text.startswith("-") and not any(c in "123456789" for c in text):
        text = text[1:]
    return text.replace("-", "−")


def ratio(value: Any) -> str:
    """A share as a percentage with no decimals (`412%`, `−38%`)."""
    return "" if value is None else _signed(f"{value:.0%}")


def percent1(value: Any) -> str:
    """A share as a percentage with one decimal (a rounded zero is `0.0%`, never `−0.0%`)."""
    return "" if value is None else _signed(f"{value:.1%}")


def signed_money(value: Any) -> str:
    """An amount against a budget: `+845.91`, `−410.44`, `0.00`."""
    text = money(value)
    return f"+{text}" if text and not text.startswith("−") and is_over(value) else text


def signed_percent(value: Any) -> str:
    """A share against a budget: `+12.1%`, `−1.5%`, `0.0%`."""
    text = percent1(value)
    return f"+{text}" if text and not text.startswith("−") and text != "0.0%" else text


def is_over(value: Any, digits: int = 2) -> bool:
    """Whether a variance is above zero once rounded as shown (`0.004` is not over)."""
    return value is not None and round(float(value), digits) > 0


def number(value: Any, digits: int = 2) -> str:
    """A plain number with thousands separators."""
    return "" if value is None else _signed(f"{value:,.{digits}f}")


def month(value: Any) -> str:
    """A month as `2026-10`."""
    return "" if value is None else f"{value:%Y-%m}"


def timestamp(value: Any) -> str:
    """A time to the minute, `2026-10-05 04:00`."""
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"
