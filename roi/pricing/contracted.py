"""Contracted prices: what the company negotiated per model, in a TOML file (`[pricing]
contracted`), winning over the library's list prices.

```toml
currency = "USD"          # of the prices below (a rate in [pricing] fx if not the project's)

[[price]]
model = "gpt-4o"          # as the gateway logs it; provider prefixes and date suffixes are
provider = "openai"       #   ignored, a `*` matches any text; provider: optional
tier = "standard"         # standard (default), batch, flex or priority
from = 2026-01-01         # optional: the date the price applies from (a later one replaces it)
input = 2.00              # per 1M tokens
cached_input = 1.00       # optional: cache reads (default: input)
cache_write = 2.50        # optional: 5-minute cache writes (default: input)
cache_write_1h = 4.00     # optional: 1-hour cache writes (default: cache_write)
output = 8.00
reasoning = 8.00          # optional (default: output)
long_context = [{ above = 200000, input = 4.00, output = 12.00 }]   # optional
```

A model with a contracted price is priced from its contracted entries for the tiers they name;
other tiers keep the library's prices. Prices are per 1M tokens: a figure below 0.0001 or above
1000 is refused as a unit error (a per-token or per-1K price).
"""

from __future__ import annotations

import fnmatch
import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from roi.errors import ConfigError
from roi.pricing.entries import (
    BEGINNING,
    COMPONENTS,
    PLAUSIBLE_MAX_PER_1M,
    TIERS,
    Component,
    LongContext,
    PriceEntry,
    Rate,
    prices,
)
from roi.pricing.matching import candidates, provider_id

_PLAUSIBLE_MIN_PER_1M = Decimal("0.0001")
_KEYS = {"model", "provider", "tier", "from", "long_context", *COMPONENTS}


@dataclass(frozen=True)
class _Contract:
    model: str
    provider: str | None
    rate: Rate


@dataclass(frozen=True)
class ContractedPrices:
    """The parsed file: its entries, currency and digest."""

    path: Path
    currency: str
    digest: str
    contracts: tuple[_Contract, ...] = field(default=())

    def lookup(self, provider: str | None, model: str) -> PriceEntry | None:
        """The contracted entry for a logged model (and provider), or None."""
        names = candidates(model)
        wanted = provider_id(provider)
        matched = [
            c
            for c in self.contracts
            if (c.provider is None or c.provider == wanted)
            and any(fnmatch.fnmatchcase(n, c.model) for n in names)
        ]
        if not matched:
            return None
        # The most specific pattern wins: a provider over none, a longer pattern over a shorter.
        best = max(
            matched, key=lambda c: (c.provider is not None, "*" not in c.model, len(c.model))
        )
        rates = tuple(
            c.rate for c in matched if (c.model, c.provider) == (best.model, best.provider)
        )
        entry_id = f"contracted:{best.provider + '/' if best.provider else ''}{best.model}"
        return PriceEntry(entry_id, "contracted", rates, currency=self.currency)


def _number(where: str, key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: key {key!r} = {value!r} is not a number; write e.g. 2.50")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if number < 0:
        raise ConfigError(f"{where}: key {key!r} = {value} is negative; prices are at least 0")
    if number > PLAUSIBLE_MAX_PER_1M or Decimal(0) < number < _PLAUSIBLE_MIN_PER_1M:
        raise ConfigError(
            f"{where}: key {key!r} = {value} is not a plausible price per 1M tokens (a per-token "
            "or per-1K figure?); write the price per 1M tokens, e.g. 2.50 for $0.0000025 a token"
        )
    return number


def _prices(
    where: str, table: dict[str, Any], allowed: set[str]
) -> dict[Component, Decimal | None]:
    for key in table:
        if key not in allowed:
            raise ConfigError(
                f"{where}: unknown key {key!r}; allowed keys: {', '.join(sorted(allowed))}"
            )
    return {c: _number(where, c, table[c]) if c in table else None for c in COMPONENTS}


def _contract(where: str, item: Any) -> _Contract:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: must be a table with model, input and output prices")
    found = _prices(where, item, _KEYS)
    model = item.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ConfigError(f'{where}: missing key "model" (the model name the gateway logs)')
    for needed in ("input", "output"):
        if found[needed] is None:
            raise ConfigError(
                f"{where}: missing key {needed!r} (price per 1M tokens) for model {model!r}"
            )
    tier = item.get("tier", "standard")
    if tier not in TIERS:
        raise ConfigError(f"{where}: key 'tier' = {tier!r}; allowed values: {', '.join(TIERS)}")
    start = item.get("from", BEGINNING)
    if not isinstance(start, date):
        raise ConfigError(f"{where}: key 'from' = {start!r} is not a date; write e.g. 2026-01-01")
    levels = []
    raw_levels = item.get("long_context", [])
    if not isinstance(raw_levels, list):
        raise ConfigError(f"{where}: key 'long_context' must be a list of tables")
    for n, level in enumerate(raw_levels, start=1):
        at = f"{where}.long_context[{n}]"
        if not isinstance(level, dict) or not isinstance(level.get("above"), int):
            raise ConfigError(f"{at}: needs `above` (input tokens per request) and prices")
        levels.append(
            LongContext(level["above"], prices(_prices(at, level, {"above", *COMPONENTS})))
        )
    provider = item.get("provider")
    if provider is not None and not isinstance(provider, str):
        raise ConfigError(f"{where}: key 'provider' must be text, e.g. \"openai\"")
    rate = Rate(tier, start, prices(found))
    return _Contract(
        model.strip().lower(),
        provider_id(provider),
        Rate(rate.tier, rate.valid_from, rate.prices, tuple(sorted(levels, key=lambda x: x.above))),
    )


def read_contracted(path: Path) -> ContractedPrices:
    """Parse a contracted-prices TOML file.

    Raises:
        ConfigError: a missing file, bad TOML, an unknown key, a missing price, a price that is
            not plausible per 1M tokens, naming the file, the entry and the key.
    """
    try:
        data = path.read_bytes()
        raw = tomllib.loads(data.decode("utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"[pricing] contracted: cannot read {path} ({exc.strerror}); check the path"
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax at that line") from exc
    for key in raw:
        if key not in ("currency", "price"):
            raise ConfigError(f"{path}: unknown key {key!r}; allowed keys: currency, price")
    currency = raw.get("currency", "USD")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        raise ConfigError(f"{path}: key 'currency' = {currency!r}; write an ISO code like USD")
    items = raw.get("price", [])
    if not isinstance(items, list):
        raise ConfigError(f"{path}: write each price as a [[price]] table")
    contracts = tuple(
        _contract(f"{path.name}: price[{n}]", item) for n, item in enumerate(items, 1)
    )
    seen: set[tuple[str, str | None, str, date]] = set()
    for c in contracts:
        seen_key = (c.model, c.provider, c.rate.tier, c.rate.valid_from)
        if seen_key in seen:
            raise ConfigError(
                f"{path}: two prices for model {c.model!r} ({c.provider or 'any provider'}), "
                f"tier {c.rate.tier}, from {c.rate.valid_from}; keep one or give another `from`"
            )
        seen.add(seen_key)
    digest = hashlib.sha256(data).hexdigest()[:12]
    return ContractedPrices(path, currency.upper(), digest, contracts)


__all__ = ["ContractedPrices", "read_contracted"]
