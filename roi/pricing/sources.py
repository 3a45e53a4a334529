"""Price libraries: where list prices come from, turned into `PriceEntry`s.

- `GenaiPrices`: the `genai-prices` package (pydantic/genai-prices, MIT, on PyPI), a roi
  dependency. Its prices are dated (a model's price history, and the dates tier prices were
  verified from), cover cache reads, both cache-write lifetimes, reasoning tokens, batch / flex /
  priority tiers and long-context tiers, and match provider-prefixed and dated model names. Its
  version names the book, so re-pricing with the same version gives the same amounts. roi never
  calls its `UpdatePrices` (no network): the bundled data is the book.
- `LiteLLMPrices`: a price file in LiteLLM's `model_prices_and_context_window.json` format
  (per-token prices, `_batches` / `_flex` / `_priority` and `_above_200k_tokens` fields). It has
  no dates: every price applies from the beginning. Its SHA-256 names the book.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from roi.errors import ConfigError
from roi.pricing.entries import (
    BEGINNING,
    Component,
    LongContext,
    PriceEntry,
    Rate,
    Tier,
    implausible,
    prices,
)
from roi.pricing.matching import candidates, provider_id


class PriceLibrary(Protocol):
    """A source of list prices."""

    name: str
    version: str  # names the data exactly (package version, or the file's digest)

    def lookup(self, provider: str | None, model: str) -> PriceEntry | None:
        """The entry for a model as a gateway logged it (and its provider), or None."""
        ...


# --- genai-prices -----------------------------------------------------------------------------

# genai-prices price keys → components (a `cache_write_5m_mtok` wins over `cache_write_mtok`).
_GENAI_KEYS: dict[str, Component] = {
    "input_mtok": "input",
    "cache_read_mtok": "cached_input",
    "cache_write_mtok": "cache_write",
    "cache_write_5m_mtok": "cache_write",
    "cache_write_1h_mtok": "cache_write_1h",
    "output_mtok": "output",
    "output_reasoning_mtok": "reasoning",
}
# The request context genai-prices selects each tier's prices by.
_GENAI_CONTEXT: dict[Tier, dict[str, str]] = {
    "batch": {"processing": "batch"},
    "flex": {"service_tier": "flex"},
    "priority": {"service_tier": "priority"},
}
_NOON = time(12, tzinfo=UTC)  # off-peak (time-of-day) prices are not modelled: noon UTC's apply


class GenaiPrices:
    """List prices from the installed `genai-prices` package."""

    name = "genai-prices"

    def __init__(self) -> None:
        try:
            import genai_prices
            from genai_prices.data_snapshot import get_snapshot
        except ImportError as exc:  # pragma: no cover - a dependency of roi
            raise ConfigError(
                "[pricing] library = 'genai-prices' but the genai-prices package is not "
                "installed; `pip install genai-prices`, or set [pricing] library to a price file"
            ) from exc
        self.version = f"genai-prices=={genai_prices.__version__}"
        self._snapshot = get_snapshot()
        self._cache: dict[tuple[str | None, str], PriceEntry | None] = {}

    def lookup(self, provider: str | None, model: str) -> PriceEntry | None:
        key = (provider, model)
        if key not in self._cache:
            self._cache[key] = self._lookup(provider, model)
        return self._cache[key]

    def _find(self, provider: str | None, model: str) -> tuple[Any, Any] | None:
        wanted = provider_id(provider)
        for name in candidates(model):
            for pid in dict.fromkeys((wanted, None)):
                try:
                    found: tuple[Any, Any] = self._snapshot.find_provider_model(
                        name, None, pid, None
                    )
                except LookupError:
                    continue
                return found
        return None

    def _lookup(self, provider: str | None, model: str) -> PriceEntry | None:
        found = self._find(provider, model)
        if found is None:
            return None
        provider_info, model_info = found
        entry_id = f"{provider_info.id}/{model_info.id}"
        rates = tuple(self._rates(model_info))
        return PriceEntry(entry_id, self.name, rates, implausible(entry_id, rates))

    def _rates(self, model: Any) -> Iterator[Rate]:
        from genai_prices import types as gp

        starts = {BEGINNING}
        conditional = model.prices if isinstance(model.prices, list) else []
        variants = model.price_variants or []
        for c in [*conditional, *variants]:
            if isinstance(c.constraint, gp.StartDateConstraint):
                starts.add(c.constraint.start_date)
        for tier in ("standard", "batch", "flex", "priority"):
            context = _GENAI_CONTEXT.get(tier)
            previous: Rate | None = None
            for start in sorted(starts):
                moment = datetime.combine(start, _NOON)
                if context is not None and not any(
                    all(context.get(k) == v for k, v in variant.when.items())
                    and (variant.constraint is None or variant.constraint.active(moment))
                    for variant in variants
                ):
                    rate = None  # no price for the tier on this date
                else:
                    rate = _genai_rate(tier, start, model.get_prices(moment, context))
                if rate is None and previous is None:
                    continue
                if rate is None:
                    rate = Rate(tier, start, prices({}))  # the tier's prices end here
                if previous is None or (rate.prices, rate.long_context) != (
                    previous.prices,
                    previous.long_context,
                ):
                    yield rate
                    previous = rate


def _genai_rate(tier: Tier, start: date, model_price: Any) -> Rate:
    from genai_prices import types as gp

    base: dict[Component, Decimal | None] = {}
    tiered: dict[Component, list[tuple[int, Decimal]]] = {}
    for key, component in _GENAI_KEYS.items():
        value = getattr(model_price, key, None)
        if value is None or (key == "cache_write_mtok" and component in base):
            continue
        if isinstance(value, gp.TieredPrices):
            base[component] = value.base
            tiered[component] = [(t.start, t.price) for t in value.tiers]
        else:
            base[component] = value
    thresholds = sorted({start for steps in tiered.values() for start, _ in steps})
    levels = tuple(
        LongContext(
            above,
            prices(
                {
                    c: [price for begin, price in steps if begin <= above][-1]
                    for c, steps in tiered.items()
                    if any(begin <= above for begin, _ in steps)
                }
            ),
        )
        for above in thresholds
    )
    return Rate(tier, start, prices(base), levels)


# --- LiteLLM's price map ----------------------------------------------------------------------

_LITELLM_FIELDS: dict[Component, str] = {
    "input": "input_cost_per_token",
    "cached_input": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
    "cache_write_1h": "cache_creation_input_token_cost_above_1hr",
    "output": "output_cost_per_token",
    "reasoning": "output_cost_per_reasoning_token",
}
_LITELLM_TIERS: dict[Tier, str] = {
    "standard": "",
    "batch": "_batches",
    "flex": "_flex",
    "priority": "_priority",
}
_MILLION = Decimal(1_000_000)


def _per_1m(value: Any) -> Decimal | None:
    """A per-token price (a JSON number) per 1M tokens, exactly as written."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return Decimal(repr(value)) * _MILLION
    except InvalidOperation:
        return None


class LiteLLMPrices:
    """List prices from a file in LiteLLM's model_prices_and_context_window.json format."""

    name = "litellm-prices"

    def __init__(self, path: Path) -> None:
        try:
            data = path.read_bytes()
            raw = json.loads(data)
        except OSError as exc:
            raise ConfigError(
                f"[pricing] library: cannot read {path} ({exc.strerror}); check the path"
            ) from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"[pricing] library: {path} is not JSON ({exc.msg} at line {exc.lineno}); use "
                "LiteLLM's model_prices_and_context_window.json as it is published"
            ) from exc
        if not isinstance(raw, dict):
            raise ConfigError(
                f"[pricing] library: {path} is not a price map (a JSON object keyed by model "
                "name, as LiteLLM's model_prices_and_context_window.json)"
            )
        # `sample_spec` documents the fields; `last_updated` is a timestamp some mirrors add.
        self._models = {
            str(k).lower(): v
            for k, v in raw.items()
            if k not in {"sample_spec", "last_updated"} and isinstance(v, dict)
        }
        self.version = f"{path.name}@sha256:{hashlib.sha256(data).hexdigest()[:12]}"
        self._cache: dict[tuple[str | None, str], PriceEntry | None] = {}

    def lookup(self, provider: str | None, model: str) -> PriceEntry | None:
        key = (provider, model)
        if key not in self._cache:
            self._cache[key] = self._lookup(provider, model)
        return self._cache[key]

    def _lookup(self, provider: str | None, model: str) -> PriceEntry | None:
        names = candidates(model)
        prefix = (provider or "").strip().lower()
        keys = [f"{prefix}/{n}" for n in names if prefix] + list(names)
        for key in dict.fromkeys(keys):
            spec = self._models.get(key)
            if spec is None or not any(f in spec for f in ("input_cost_per_token",)):
                continue
            rates = tuple(_litellm_rates(spec))
            return PriceEntry(key, self.name, rates, implausible(key, rates))
        return None


def _litellm_rates(spec: dict[str, Any]) -> Iterator[Rate]:
    for tier, suffix in _LITELLM_TIERS.items():
        base = {c: _per_1m(spec.get(f + suffix)) for c, f in _LITELLM_FIELDS.items()}
        if tier != "standard":
            if base["input"] is None and base["output"] is None:
                continue  # the model has no price for this tier
            # Components the tier does not name are billed at the standard price.
            for c, f in _LITELLM_FIELDS.items():
                if base[c] is None:
                    base[c] = _per_1m(spec.get(f))
        levels = []
        thresholds = sorted(
            {
                int(k.split("_above_")[-1].split("k_tokens")[0]) * 1000
                for k in spec
                if "_above_" in k
                and k.split("_above_")[-1].endswith(f"k_tokens{suffix}")
                and k.split("_above_")[-1].split("k_tokens")[0].isdigit()
            }
        )
        for above in thresholds:
            tag = f"_above_{above // 1000}k_tokens{suffix}"
            level = {
                c: _per_1m(spec.get(f.replace("_above_1hr", "") + tag))
                if c != "cache_write_1h"
                else _per_1m(spec.get(f + tag))
                for c, f in _LITELLM_FIELDS.items()
            }
            levels.append(LongContext(above, prices(level)))
        yield Rate(tier, BEGINNING, prices(base), tuple(levels))


def open_library(library: str, root: Path) -> PriceLibrary:
    """The library `[pricing] library` names: "genai-prices" or a price file's path."""
    if library.strip().lower() in ("genai-prices", "genai_prices"):
        return GenaiPrices()
    path = Path(library).expanduser()
    if not path.is_absolute():
        path = root / path
    return LiteLLMPrices(path)


__all__ = ["GenaiPrices", "LiteLLMPrices", "PriceLibrary", "open_library"]
