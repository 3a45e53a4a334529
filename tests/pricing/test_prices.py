"""The price book's arithmetic, shown from the price entries themselves.

Each test reads the entry that prices a row (the library's, or a contracted one written here),
computes the cost by hand from its prices per 1M tokens, and checks `price_usage` gives exactly
that: cache reads, both cache-write lifetimes, reasoning tokens, the batch tier, a long-context
tier, a contracted override, dated prices, and an unknown model (an `unpriced` row, never 0).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from roi.errors import ConfigError
from roi.pricing import PriceBook, load_price_book, price_usage
from roi.pricing.entries import Rate
from roi.pricing.sources import GenaiPrices, LiteLLMPrices
from roi.vocabulary import MONEY
from tests.conftest import shared_file

OCT = datetime(2026, 10, 20, 9, 30, tzinfo=UTC)
MILLION = Decimal(1_000_000)


def usage(**values: Any) -> dict[str, Any]:
    """One request: roi's counts (input includes cache reads and writes, output reasoning)."""
    row: dict[str, Any] = {
        "request_id": "r1",
        "ts": OCT,
        "provider": "openai",
        "model": "gpt-4o",
        "service_tier": None,
        "requests": 1,
        "input_tokens": 0,
        "cached_input_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": 0,
        "reasoning_tokens": 0,
        "cost": None,
        "currency": "USD",
        "cost_source": "unpriced",
        "price_version": None,
    }
    row.update(values)
    return row


def priced(book: PriceBook, *rows: dict[str, Any]) -> pl.DataFrame:
    frame = pl.DataFrame(
        list(rows),
        schema_overrides={
            "cost": MONEY,
            "service_tier": pl.String,
            "price_version": pl.String,
            "provider": pl.String,
        },
    )
    return price_usage(frame, book)


def cost_of(book: PriceBook, **values: Any) -> Decimal | None:
    result: Decimal | None = priced(book, usage(**values)).get_column("cost").item()
    return result


def money(amount: Decimal) -> Decimal:
    """An exact amount as the warehouse stores it: 10 decimals, half to even."""
    return amount.quantize(Decimal("1e-10"), rounding=ROUND_HALF_EVEN)


@pytest.fixture(scope="module")
def library() -> GenaiPrices:
    return GenaiPrices()


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return load_price_book(Path("."), "USD")


def rate(library: GenaiPrices, provider: str, model: str, tier: str = "standard") -> Rate:
    entry = library.lookup(provider, model)
    assert entry is not None and entry.problem is None
    rates = [r for r in entry.rates_for(tier) if r.valid_from <= OCT.date()]  # type: ignore[arg-type]
    return rates[-1]


def test_cache_reads_at_the_cache_read_price(library: GenaiPrices, book: PriceBook) -> None:
    p = rate(library, "openai", "gpt-4o")
    assert p.prices["cached_input"] < p.prices["input"]
    got = cost_of(book, input_tokens=1_000_000, cached_input_tokens=400_000, output_tokens=50_000)
    expected = (
        600_000 * p.prices["input"]
        + 400_000 * p.prices["cached_input"]
        + 50_000 * p.prices["output"]
    ) / MILLION
    assert got == money(expected)
    # Not the full input price for cached tokens (BerriAI/litellm #6215).
    assert got < money((1_000_000 * p.prices["input"] + 50_000 * p.prices["output"]) / MILLION)


def test_both_cache_write_lifetimes(library: GenaiPrices, book: PriceBook) -> None:
    p = rate(library, "anthropic", "claude-sonnet-4-5")
    five, hour = p.prices["cache_write"], p.prices["cache_write_1h"]
    assert five != hour and five > p.prices["input"]
    # Anthropic's native counts, made roi's by the connector: input = 2,000 uncached +
    # 10,000 cache reads + 3,000 written for 5 minutes + 1,000 written for an hour.
    got = cost_of(
        book,
        provider="anthropic",
        model="claude-sonnet-4-5-20250929",
        input_tokens=16_000,
        cached_input_tokens=10_000,
        cache_write_tokens=4_000,
        cache_write_1h_tokens=1_000,
        output_tokens=500,
    )
    expected = (
        2_000 * p.prices["input"]
        + 10_000 * p.prices["cached_input"]
        + 3_000 * five
        + 1_000 * hour
        + 500 * p.prices["output"]
    ) / MILLION
    assert got == money(expected)
    # A cache write is part of input, never priced on top of it (BerriAI/litellm #6575).
    assert got < money(expected + 4_000 * p.prices["input"] / MILLION)


def test_reasoning_tokens(library: GenaiPrices, book: PriceBook) -> None:
    p = rate(library, "openai", "o3")
    reasoning = p.prices.get("reasoning", p.prices["output"])  # billed as output unless priced
    got = cost_of(
        book, model="o3", input_tokens=20_000, output_tokens=9_000, reasoning_tokens=7_000
    )
    expected = (
        20_000 * p.prices["input"] + 2_000 * p.prices["output"] + 7_000 * reasoning
    ) / MILLION
    assert got == money(expected)


def test_batch_tier(library: GenaiPrices, book: PriceBook) -> None:
    standard, batch = rate(library, "openai", "gpt-4o"), rate(library, "openai", "gpt-4o", "batch")
    assert batch.prices["input"] == standard.prices["input"] / 2
    got = cost_of(book, service_tier="batch", input_tokens=100_000, output_tokens=20_000)
    expected = (100_000 * batch.prices["input"] + 20_000 * batch.prices["output"]) / MILLION
    assert got == money(expected)


def test_no_batch_price_is_unpriced_not_standard(book: PriceBook) -> None:
    # genai-prices bundles batch rates from the date they were verified: before it, a batch
    # request has no price (it is not billed at the standard one).
    frame = priced(
        book,
        usage(
            ts=datetime(2025, 3, 1, tzinfo=UTC),
            service_tier="batch",
            input_tokens=10,
            output_tokens=1,
        ),
    )
    assert frame.get_column("cost").item() is None
    assert frame.get_column("cost_source").item() == "unpriced"


def test_long_context_tier(library: GenaiPrices, book: PriceBook) -> None:
    p = rate(library, "google", "gemini-2.5-pro")
    [level] = p.long_context
    assert level.above == 200_000
    long_input, long_output = p.price("input", 1), p.price("output", 1)
    assert long_input is not None and long_output is not None and long_input > p.prices["input"]
    below = cost_of(
        book, provider="gemini", model="gemini-2.5-pro", input_tokens=200_000, output_tokens=1_000
    )
    above = cost_of(
        book, provider="gemini", model="gemini-2.5-pro", input_tokens=200_001, output_tokens=1_000
    )
    assert below == money((200_000 * p.prices["input"] + 1_000 * p.prices["output"]) / MILLION)
    # Past the threshold every token of the request is at the tier's price (the "cliff").
    assert above == money((200_001 * long_input + 1_000 * long_output) / MILLION)
    # A day's bucket of requests is tiered by its input per request, not its total.
    bucket = cost_of(
        book,
        provider="gemini",
        model="gemini-2.5-pro",
        requests=10,
        input_tokens=300_000,
        output_tokens=1_000,
    )
    assert bucket == money((300_000 * p.prices["input"] + 1_000 * p.prices["output"]) / MILLION)


CONTRACT = """
currency = "USD"

[[price]]
model = "gpt-4o"
input = 2.00
cached_input = 0.50
output = 8.00

[[price]]
model = "gpt-4o"
tier = "batch"
input = 0.90
output = 3.60

[[price]]
model = "in-house-llm-*"
from = 2026-10-15
input = 0.30
cache_write = 0.40
cache_write_1h = 0.60
output = 0.90
reasoning = 1.20
long_context = [{ above = 100000, input = 0.60, output = 1.80 }]
"""


@pytest.fixture
def contracted(tmp_path: Path) -> PriceBook:
    (tmp_path / "prices.toml").write_text(CONTRACT, encoding="utf-8")
    return load_price_book(tmp_path, "USD", contracted="prices.toml")


def test_contracted_price_overrides_the_library(contracted: PriceBook) -> None:
    got = cost_of(
        contracted,
        model="gpt-4o-2024-08-06",
        input_tokens=1_000_000,
        cached_input_tokens=400_000,
        output_tokens=50_000,
    )
    expected = 600_000 * Decimal("2.00") + 400_000 * Decimal("0.50") + 50_000 * Decimal("8.00")
    assert got == money(expected / MILLION)
    batch = cost_of(contracted, service_tier="batch", input_tokens=100_000, output_tokens=20_000)
    assert batch == money((100_000 * Decimal("0.90") + 20_000 * Decimal("3.60")) / MILLION)
    version = priced(contracted, usage(input_tokens=1, output_tokens=1)).get_column("price_version")
    assert version.item() == contracted.version
    assert version.item().startswith("genai-prices==") and "+contracted@sha256:" in version.item()


def test_contracted_prices_are_dated(contracted: PriceBook) -> None:
    tokens = {
        "model": "in-house-llm-large",
        "provider": "acme",
        "input_tokens": 10_000,
        "cache_write_tokens": 3_000,
        "cache_write_1h_tokens": 1_000,
        "output_tokens": 2_000,
        "reasoning_tokens": 500,
    }
    before = cost_of(contracted, ts=datetime(2026, 10, 14, 23, 59, tzinfo=UTC), **tokens)
    after = cost_of(contracted, ts=datetime(2026, 10, 15, tzinfo=UTC), **tokens)
    assert before is None  # no price before the contract (nor in the library)
    expected = (
        7_000 * Decimal("0.30")
        + 2_000 * Decimal("0.40")
        + 1_000 * Decimal("0.60")
        + 1_500 * Decimal("0.90")
        + 500 * Decimal("1.20")
    )
    assert after == money(expected / MILLION)
    big = cost_of(contracted, **{**tokens, "input_tokens": 110_000})
    # Long context: input and output at the tier's prices; writes and reasoning fall back to
    # their base prices (the tier does not name them).
    expected_big = (
        107_000 * Decimal("0.60")
        + 2_000 * Decimal("0.40")
        + 1_000 * Decimal("0.60")
        + 1_500 * Decimal("1.80")
        + 500 * Decimal("1.20")
    )
    assert big == money(expected_big / MILLION)


def test_unknown_model_is_unpriced_never_zero(book: PriceBook) -> None:
    frame = priced(
        book,
        usage(provider="acme", model="acme-llm-7", input_tokens=1_000, output_tokens=100),
        usage(
            request_id="r2", provider="acme", model="acme-llm-7", input_tokens=0, output_tokens=0
        ),
        usage(
            request_id="r3",
            input_tokens=1_000,
            output_tokens=100,
            cost=Decimal("0.5"),
            cost_source="reported",
        ),
    )
    rows = frame.select("request_id", "cost", "cost_source", "price_version").rows()
    assert rows[0] == ("r1", None, "unpriced", book.version)
    assert rows[1][1:3] == (None, "unpriced")  # no tokens and no price is not a zero cost
    assert rows[2] == ("r3", Decimal("0.5000000000"), "reported", None)  # reported stays


def test_self_hosted_rows_are_not_priced_per_token(book: PriceBook) -> None:
    frame = priced(book, usage(provider="vllm", model="gpt-4o", input_tokens=10, output_tokens=1))
    assert frame.get_column("cost").item() is None


def test_currency_other_than_the_projects_needs_a_rate(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[pricing\] fx.*USD"):
        load_price_book(tmp_path, "EUR")
    book = load_price_book(tmp_path, "EUR", fx={"USD": 0.9})
    usd = cost_of(load_price_book(tmp_path, "USD"), input_tokens=1_000_000, output_tokens=0)
    eur = priced(book, usage(input_tokens=1_000_000, output_tokens=0))
    assert usd is not None
    assert eur.get_column("cost").item() == money(usd * Decimal("0.9"))
    assert eur.get_column("currency").item() == "EUR"
    assert "+fx@sha256:" in book.version


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("input = 0.0000025", "not a plausible price per 1M tokens"),  # a per-token figure
        ("input = 2500.0", "not a plausible price per 1M tokens"),  # a per-1K figure x 1000
        ("input = -1.0", "negative"),
        ("inptu = 1.0", "unknown key 'inptu'"),
    ],
)
def test_contracted_prices_refuse_unit_errors(tmp_path: Path, line: str, problem: str) -> None:
    (tmp_path / "p.toml").write_text(f'[[price]]\nmodel = "m"\noutput = 1.0\n{line}\n')
    with pytest.raises(ConfigError, match=problem):
        load_price_book(tmp_path, "USD", contracted="p.toml")


def test_contracted_price_in_another_currency(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(
        'currency = "EUR"\n[[price]]\nmodel = "m"\ninput = 1.0\noutput = 2.0\n'
    )
    with pytest.raises(ConfigError, match=r"no rate for EUR"):
        load_price_book(tmp_path, "USD", contracted="p.toml")
    book = load_price_book(tmp_path, "USD", contracted="p.toml", fx={"EUR": 1.1})
    got = cost_of(book, provider=None, model="m", input_tokens=1_000_000, output_tokens=1_000_000)
    assert got == money(Decimal("3.0") * Decimal("1.1"))


def test_dated_library_prices(library: GenaiPrices, book: PriceBook) -> None:
    entry = library.lookup("openai", "o3")
    assert entry is not None
    standard = entry.rates_for("standard")
    assert len(standard) >= 2  # o3's price cut
    first, later = standard[0], standard[1]
    before = datetime.combine(later.valid_from, datetime.min.time(), UTC).replace(day=1)
    if before.date() >= later.valid_from:
        pytest.skip("the price change falls on the first of a month")
    tokens = {"model": "o3", "input_tokens": 1_000_000, "output_tokens": 1_000_000}
    assert cost_of(book, ts=before, **tokens) == money(
        first.prices["input"] + first.prices["output"]
    )
    assert cost_of(
        book, ts=datetime.combine(later.valid_from, datetime.min.time(), UTC), **tokens
    ) == money(later.prices["input"] + later.prices["output"])


def test_model_names_with_prefixes_and_dates(library: GenaiPrices) -> None:
    for provider, name in [
        ("azure", "azure/eu/gpt-4o-2024-08-06"),
        ("openrouter", "openrouter/openai/gpt-4o"),
        ("bedrock", "bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0"),
        ("vertex_ai", "claude-3-5-sonnet@20240620"),
        (None, "gpt-4o-mini"),
    ]:
        assert library.lookup(provider, name) is not None, name


def test_litellm_price_file(tmp_path: Path) -> None:
    path = shared_file("pricing/litellm_model_prices_and_context_window.json")
    prices = LiteLLMPrices(path)
    entry = prices.lookup("openai", "gpt-4o")
    assert entry is not None
    [standard] = entry.rates_for("standard")
    [batch] = entry.rates_for("batch")
    assert standard.prices["input"] == Decimal("2.5") and standard.prices[
        "cached_input"
    ] == Decimal("1.25")
    assert batch.prices["input"] == Decimal("1.25") and batch.prices["output"] == Decimal("5")
    claude = prices.lookup("anthropic", "claude-sonnet-4-5-20250929")
    assert claude is not None
    [rate_] = claude.rates_for("standard")
    assert rate_.prices["cache_write_1h"] == Decimal("6") and rate_.long_context[0].above == 200_000
    assert rate_.price("cache_write_1h", 1) == Decimal("12")
    assert prices.version.startswith("litellm_model_prices_and_context_window.json@sha256:")
    book = load_price_book(tmp_path, "USD", library=str(path))
    assert cost_of(book, input_tokens=1_000_000, cached_input_tokens=1_000_000) == Decimal("1.25")


def test_price_entry_of_a_unit_error_prices_nothing(tmp_path: Path) -> None:
    # A price stored per 1K tokens in a per-token field: 0.0032 a token is 3,200 per 1M.
    (tmp_path / "map.json").write_text(
        '{"jais-30b-chat": {"input_cost_per_token": 0.0032, "output_cost_per_token": 0.00971}}'
    )
    book = load_price_book(tmp_path, "USD", library="map.json")
    frame = priced(
        book, usage(provider=None, model="jais-30b-chat", input_tokens=10, output_tokens=1)
    )
    assert frame.get_column("cost_source").item() == "unpriced"


def test_book_version_names_the_library(book: PriceBook) -> None:
    import genai_prices

    assert book.version == f"genai-prices=={genai_prices.__version__}"
    assert date(2026, 1, 1)  # the book is dated by its entries, not by today
