"""A price book's entries: what one model costs per 1M tokens, by service tier and date.

Every source (the genai-prices package, a LiteLLM-format price file, the project's contracted
prices) is turned into `PriceEntry`s of the same shape, so pricing never depends on where a
price came from:

- six token prices per 1M tokens (`COMPONENTS`): uncached input, cache reads, cache writes with
  the 5-minute lifetime (`cache_write`) and the 1-hour one (`cache_write_1h`), output, and
  reasoning tokens (part of output). A price left out falls back as providers bill it: cache
  reads and writes at the input price, 1-hour writes at the 5-minute price, reasoning at the
  output price. Input and output have no fallback: without them the row is unpriced.
- a rate per service tier (`standard`, `batch`, `flex`, `priority`) and the date it applies
  from; history is a list of rates with later start dates;
- long-context tiers (`LongContext`): from a number of input tokens per request, every token
  of that request is billed at the tier's prices (the "cliff" providers use).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

Component = Literal["input", "cached_input", "cache_write", "cache_write_1h", "output", "reasoning"]
COMPONENTS: tuple[Component, ...] = (
    "input",
    "cached_input",
    "cache_write",
    "cache_write_1h",
    "output",
    "reasoning",
)
Tier = Literal["standard", "batch", "flex", "priority"]
TIERS: tuple[Tier, ...] = ("standard", "batch", "flex", "priority")
# Where a missing component's price comes from (in order); input and output have none.
FALLBACK: dict[Component, tuple[Component, ...]] = {
    "input": (),
    "cached_input": ("input",),
    "cache_write": ("input",),
    "cache_write_1h": ("cache_write", "input"),
    "output": (),
    "reasoning": ("output",),
}
# No text-token price on record exceeds this per 1M tokens; a larger one is a unit error (a
# per-1K or per-token figure stored as per 1M, e.g. LiteLLM #38167, #23503), never a price.
PLAUSIBLE_MAX_PER_1M = Decimal(1000)
BEGINNING = date(1970, 1, 1)

Prices = MappingProxyType[Component, Decimal]


def prices(values: dict[Component, Decimal | None]) -> Prices:
    """A read-only component → price (per 1M tokens) map without the missing ones."""
    return MappingProxyType({c: v for c, v in values.items() if v is not None})


@dataclass(frozen=True)
class LongContext:
    """Prices that apply to every token of a request whose input exceeds `above` tokens."""

    above: int
    prices: Prices


@dataclass(frozen=True)
class Rate:
    """One tier's prices from a date on (per 1M tokens, in the book's currency)."""

    tier: Tier
    valid_from: date
    prices: Prices
    long_context: tuple[LongContext, ...] = ()

    def price(self, component: Component, level: int = 0) -> Decimal | None:
        """The price of a component at a long-context level (0: base), after fallbacks."""
        tables = [self.prices, *(lc.prices for lc in self.long_context[:level])]
        for name in (component, *FALLBACK[component]):
            # The highest tier that names the component, else the base price.
            for table in reversed(tables):
                if name in table:
                    return table[name]
        return None


@dataclass(frozen=True)
class PriceEntry:
    """A model's prices in one source: every tier and date it has.

    `rates` holds, per tier, the rates in the order of their start dates; a tier with no rate
    on a date is unpriced on that date (never the standard price: a batch request is not billed
    as a standard one). `problem` says why an entry that matched cannot price (an implausible
    price), and the rows it would price stay unpriced with that reason.
    """

    entry_id: str
    source: str  # "contracted", or the library's name
    rates: tuple[Rate, ...]
    problem: str | None = None
    currency: str = "USD"
    notes: tuple[str, ...] = field(default=())

    def rates_for(self, tier: Tier) -> list[Rate]:
        """The tier's rates, earliest first."""
        return sorted((r for r in self.rates if r.tier == tier), key=lambda r: r.valid_from)


def implausible(entry_id: str, rates: tuple[Rate, ...]) -> str | None:
    """Why an entry's prices cannot be right, or None (see `PLAUSIBLE_MAX_PER_1M`)."""
    for rate in rates:
        for table in (rate.prices, *(lc.prices for lc in rate.long_context)):
            for component, value in table.items():
                if value > PLAUSIBLE_MAX_PER_1M:
                    return (
                        f"{entry_id}: {component} price {value} per 1M tokens is implausible "
                        "(a per-1K or per-token figure stored as per 1M?)"
                    )
    return None
