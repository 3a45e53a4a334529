"""Exact splits of money by weights: the parts add up to the whole, to the last decimal."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

SCALE = 10  # DECIMAL(38,10): amounts are whole numbers of 1e-10


def to_units(amount: Decimal) -> int:
    """An amount as a whole number of 1e-10 (exact for DECIMAL(38,10) values)."""
    return int(amount.scaleb(SCALE).to_integral_value())


def from_units(units: int) -> Decimal:
    """A whole number of 1e-10 as an amount."""
    return Decimal(units).scaleb(-SCALE)


def split_units(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split `total` units in proportion to non-negative `weights`, exactly.

    Largest remainder: every part is the floor of its exact share, and the units left over go
    to the parts with the largest fractions (ties by key), so the parts always sum to `total`.
    """
    positive = {k: Fraction(w) for k, w in weights.items() if w > 0}
    if not positive:
        raise ValueError("no positive weight to split by")
    sign = -1 if total < 0 else 1
    whole = abs(total)
    weight_sum = sum(positive.values())
    exact = {k: whole * w / weight_sum for k, w in positive.items()}
    parts = {k: int(v) for k, v in exact.items()}  # floor, all non-negative
    left = whole - sum(parts.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - parts[k]), k))
    for key in order[:left]:
        parts[key] += 1
    return {k: sign * v for k, v in parts.items()}


def split_amount(amount: Decimal, weights: Mapping[str, float]) -> dict[str, Decimal]:
    """`split_units` on an amount."""
    return {k: from_units(v) for k, v in split_units(to_units(amount), weights).items()}
