"""The gateway against the invoice: a month where LiteLLM under-counts Anthropic's cached tokens
(the LiteLLM #12313 shape: 49,563 cached tokens counted, 65,304 billed; 0.866 against 0.939
USD). The invoice is the cost: the models' costs sum to it exactly, and `roi reconcile` shows
the gap with its sign."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from roi import pipeline
from roi.attribution.trueup import split_exactly
from roi.cli import cli
from roi.config import load_project
from roi.context import Context

MODELS = ("support-assistant", "search-ranking")
# (portfolio model, prompt tokens, cached tokens the gateway saw, completion tokens, spend USD)
REQUESTS = (
    ("support-assistant", 31_000, 18_000, 1_900, "0.2113"),
    ("support-assistant", 22_400, 12_263, 1_250, "0.1502"),
    ("search-ranking", 18_800, 9_800, 2_200, "0.1847"),
    ("support-assistant", 40_100, 0, 3_100, "0.1678"),
    ("search-ranking", 21_700, 9_500, 1_400, "0.1520"),
)
# Anthropic's cost report for the month: (token type, cents as Anthropic writes them).
BILLED = (
    ("uncached_input_tokens", "44.718"),
    ("cache_read_input_tokens", "1.9591"),
    ("output_tokens", "47.2229"),
)
MODEL = "claude-sonnet-4-20250514"


def _project(root: Path) -> Path:
    (root / "connectors").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "data").mkdir()
    (root / "roi.toml").write_text('[project]\nname = "llm"\ncurrency = "USD"\n')
    for model in MODELS:
        (root / "models" / f"{model}.toml").write_text(
            f'model_id = "{model}"\nname = "{model}"\nowner = "ml@example.com"\n'
            'business_unit = "Support"\nstage = "production"\n'
        )
    with (root / "data/spend.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "request_id",
                "call_type",
                "spend",
                "prompt_tokens",
                "completion_tokens",
                "startTime",
                "model",
                "custom_llm_provider",
                "metadata",
            ]
        )
        for n, (model_id, prompt, cached, out, spend) in enumerate(REQUESTS, 1):
            metadata = {
                "spend_logs_metadata": {"model_portfolio_id": model_id},
                "additional_usage_values": {"cache_read_input_tokens": cached},
            }
            writer.writerow(
                [
                    f"req-{n}",
                    "acompletion",
                    spend,
                    prompt,
                    out,
                    f"2026-10-{n:02d} 09:00:00.000",
                    MODEL,
                    "anthropic",
                    json.dumps(metadata),
                ]
            )
    report = {
        "data": [
            {
                "starting_at": "2026-10-01T00:00:00Z",
                "ending_at": "2026-10-02T00:00:00Z",
                "results": [
                    {
                        "currency": "USD",
                        "amount": cents,
                        "workspace_id": None,
                        "description": f"Claude Sonnet 4 Usage - {kind}",
                        "cost_type": "tokens",
                        "context_window": "0-200k",
                        "model": MODEL,
                        "service_tier": "standard",
                        "token_type": kind,
                    }
                    for kind, cents in BILLED
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }
    (root / "data/cost_report.json").write_text(json.dumps(report))
    (root / "connectors/gateway.toml").write_text(
        'type = "litellm_spend_logs"\npath = "data/spend.csv"\n'
    )
    (root / "connectors/anthropic.toml").write_text(
        'type = "anthropic_cost"\npath = "data/cost_report.json"\n'
    )
    return root


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_model_costs_sum_to_the_invoice_and_the_gap_is_shown(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    for step in ("load", "attribute"):
        code, out, err = _invoke(step, "--project", str(root), "--quiet")
        assert code == 0, (step, out, err)
    code, out, err = _invoke("reconcile", "--project", str(root), "--format", "json")
    assert code == 0, err
    [row] = json.loads(out)["gateway_vs_invoice"]

    gateway = sum((Decimal(r[4]) for r in REQUESTS), Decimal(0))
    invoice = sum((Decimal(c) for _, c in BILLED), Decimal(0)) / 100
    assert (gateway, invoice) == (Decimal("0.8660"), Decimal("0.939"))
    assert row["provider"] == "anthropic" and row["month"] == "2026-10-01"
    assert Decimal(str(row["gateway"])) == gateway
    assert Decimal(str(row["invoice"])) == invoice
    assert Decimal(str(row["gap"])) == invoice - gateway > 0  # the gateway under-counted

    costs = pipeline.query(
        Context(load_project(root)),
        "SELECT model_id, amount, reason FROM usage_costs WHERE provider = 'anthropic' "
        "ORDER BY model_id",
    ).rows()
    amounts: dict[Any, Decimal] = {r[0]: Decimal(r[1]) for r in costs}
    assert sum(amounts.values()) == invoice  # to the last digit, not only to the cent
    # Each model's share follows the gateway's cost of its requests.
    weights = {m: sum((Decimal(r[4]) for r in REQUESTS if r[0] == m), Decimal(0)) for m in MODELS}
    for model, share in zip(MODELS, split_exactly(invoice, list(weights.values())), strict=True):
        assert abs(amounts[model] - share) <= Decimal("1e-10") * len(REQUESTS)
    assert {r[2] for r in costs} == {"the anthropic invoice, spread over usage by cost"}


def test_split_exactly_keeps_every_digit() -> None:
    amount = Decimal("100.0000000001")
    parts = split_exactly(amount, [Decimal(1), Decimal(1), Decimal(1)])
    assert sum(parts) == amount and max(parts) - min(parts) == Decimal("1e-10")
    assert split_exactly(Decimal("-3"), [Decimal(2), Decimal(1)]) == [Decimal(-2), Decimal(-1)]
