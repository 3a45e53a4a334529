"""Anthropic's usage and cost reports, fetched page by page from a local server replaying the
documented shapes, and saved as files: cache writes split 5-minute / 1-hour, the default
workspace (null), amounts as decimal strings in cents, and a currency with no rate."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from roi import pipeline
from roi.config import load_project
from roi.context import Context
from roi.errors import ValidationFailed
from tests.replay import Replay, Reply, serving

KEY = "sk-ant-admin01-test-key"
USAGE = "/v1/organizations/usage_report/messages"


def usage_result(
    workspace: str | None, uncached: int, read: int, w5: int, w1: int, out: int
) -> dict[str, Any]:
    return {
        "uncached_input_tokens": uncached,
        "cache_creation": {"ephemeral_1h_input_tokens": w1, "ephemeral_5m_input_tokens": w5},
        "cache_read_input_tokens": read,
        "output_tokens": out,
        "server_tool_use": {"web_search_requests": 0},
        "api_key_id": None,
        "workspace_id": workspace,
        "model": "claude-sonnet-4-20250514",
        "service_tier": "standard",
        "context_window": "0-200k",
    }


def report(day: int, results: list[dict[str, Any]], next_page: str | None) -> dict[str, Any]:
    return {
        "data": [
            {
                "starting_at": f"2026-10-{day:02d}T00:00:00Z",
                "ending_at": f"2026-10-{day + 1:02d}T00:00:00Z",
                "results": results,
            }
        ],
        "has_more": next_page is not None,
        "next_page": next_page,
    }


PAGES = (
    report(1, [usage_result(None, 9_000, 49_563, 2_000, 1_000, 4_100)], "page_2"),
    report(
        2, [usage_result("wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", 4_000, 15_741, 0, 3_000, 900)], None
    ),
)


def _project(tmp_path: Path, kind: str, location: str, options: str = "") -> Path:
    root = tmp_path / "p"
    (root / "connectors").mkdir(parents=True, exist_ok=True)
    (root / "roi.toml").write_text('[project]\nname = "anthropic"\ncurrency = "USD"\n')
    (root / "connectors/anthropic.toml").write_text(
        f'type = "{kind}"\n{location}\nadmin_key_env = "ROI_TEST_ANTHROPIC_KEY"\n\n[options]\n'
        f'start = "2026-10-01"\nuntil = "2026-10-03"\n{options}'
    )
    return root


def _usage(root: Path) -> list[tuple[Any, ...]]:
    return pipeline.query(
        Context(load_project(root)),
        "SELECT request_id, ts, model, tags['workspace_id'], input_tokens, cached_input_tokens, "
        "cache_write_tokens, cache_write_1h_tokens, output_tokens FROM inference_usage ORDER BY 1",
    ).rows()


def test_usage_pages_fetched_and_saved_load_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROI_TEST_ANTHROPIC_KEY", KEY)
    with serving(Replay({USAGE: {None: Reply(PAGES[0]), "page_2": Reply(PAGES[1])}})) as server:
        live = _project(tmp_path / "live", "anthropic_usage", f'url = "{server.url}"')
        pipeline.load(Context(load_project(live)))
    first = server.seen[0]
    assert first.headers["x-api-key"] == KEY and first.headers["anthropic-version"] == "2023-06-01"
    assert first.query["group_by[]"] == ["model", "workspace_id", "service_tier", "context_window"]
    rows = _usage(live)
    results = [r for p in PAGES for b in p["data"] for r in b["results"]]
    assert [r[3] for r in rows] == ["default", "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"]
    for row, result in zip(rows, results, strict=True):
        creation = result["cache_creation"]
        writes = creation["ephemeral_5m_input_tokens"] + creation["ephemeral_1h_input_tokens"]
        # Anthropic counts input apart from the cache; the table counts the cache inside it.
        assert (
            row[4] == result["uncached_input_tokens"] + result["cache_read_input_tokens"] + writes
        )
        assert row[5:] == (
            result["cache_read_input_tokens"],
            writes,
            creation["ephemeral_1h_input_tokens"],
            result["output_tokens"],
        )
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(list(PAGES)))  # both pages in one file, as a list
    files = _project(tmp_path / "files", "anthropic_usage", f'path = "{saved}"')
    pipeline.load(Context(load_project(files)))
    assert _usage(files) == rows


COST = report(
    1,
    [
        {
            "currency": "USD",
            "amount": "123.45",
            "workspace_id": None,
            "description": "Claude Sonnet 4 Usage - Input Tokens",
            "cost_type": "tokens",
            "context_window": "0-200k",
            "model": "claude-sonnet-4-20250514",
            "service_tier": "standard",
            "token_type": "uncached_input_tokens",
        },
        {
            "currency": "USD",
            "amount": "7.1",
            "workspace_id": None,
            "description": "Web Search",
            "cost_type": "web_search",
            "context_window": None,
            "model": None,
            "service_tier": None,
            "token_type": None,
        },
    ],
    None,
)


def test_cost_amounts_are_cents_as_decimal_strings(tmp_path: Path) -> None:
    path = tmp_path / "cost.json"
    path.write_text(json.dumps(COST))
    root = _project(tmp_path, "anthropic_cost", f'path = "{path}"')
    pipeline.load(Context(load_project(root)))
    got = pipeline.query(
        Context(load_project(root)),
        "SELECT amount, currency, project_id, cost_type FROM provider_invoices ORDER BY amount",
    ).rows()
    cents = sorted(Decimal(r["amount"]) for b in COST["data"] for r in b["results"])
    assert [r[0] for r in got] == [c / 100 for c in cents]  # "123.45" → 1.2345 exactly
    assert {r[1:3] for r in got} == {("USD", "default")}


def test_a_currency_other_than_the_projects_needs_a_rate(tmp_path: Path) -> None:
    euro = json.loads(json.dumps(COST).replace('"USD"', '"EUR"'))
    path = tmp_path / "cost.json"
    path.write_text(json.dumps(euro))
    root = _project(tmp_path, "anthropic_cost", f'path = "{path}"')
    with pytest.raises(ValidationFailed) as caught:
        pipeline.load(Context(load_project(root)))
    assert str(caught.value).startswith(
        f"{path} row 1 field currency: not the project's currency (USD) and the connector's "
        "[options] rates give no rate for it"
    )
    toml = root / "connectors/anthropic.toml"
    toml.write_text(toml.read_text() + 'rates = { EUR = "1.0845" }\n')
    pipeline.load(Context(load_project(root)))
    got = pipeline.query(
        Context(load_project(root)),
        "SELECT amount, currency, source_amount, source_currency FROM provider_invoices "
        "ORDER BY amount",
    ).rows()
    euros = sorted(Decimal(r["amount"]) / 100 for b in COST["data"] for r in b["results"])
    assert got == [(e * Decimal("1.0845"), "USD", e, "EUR") for e in euros]
