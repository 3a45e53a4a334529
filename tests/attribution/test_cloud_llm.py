"""The gateway against the cloud bill: LLM usage a cloud bills (Azure OpenAI on Microsoft's bill,
Bedrock on AWS's) next to that bill's LLM lines in `roi reconcile`, per month and provider,
with the gap's sign and percentage. Every expected figure is computed here from the input files
themselves (csv and gzip), not through roi."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from roi import pipeline
from roi.cli import cli
from roi.config import ProjectConfig, load_project
from roi.context import Context
from tests.conftest import copy_project

AZURE_ACCOUNT = "oai-northwind-shared"


def _reconcile(root: Path, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        cli, ["reconcile", "--project", str(root), "--format", "json", *args]
    )
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)["gateway_vs_invoice"]
    return rows


def _latest_delivery_rows(folder: Path) -> list[dict[str, str]]:
    """The rows of the newest delivery (its folder name is its time) of one billing period."""
    newest = max(p for p in folder.iterdir() if p.is_dir())
    rows: list[dict[str, str]] = []
    for part in sorted(newest.glob("*.csv.gz")):
        with gzip.open(part, "rt", newline="") as fh:
            rows += csv.DictReader(fh)
    return rows


def _spend(root: Path, month: str, provider: str) -> Decimal:
    """LiteLLM's reported spend for a provider in a month, from the sample's dump."""
    path = root / f"sample_data/llm/litellm/LiteLLM_SpendLogs_{month}.csv.gz"
    with gzip.open(path, "rt", newline="") as fh:
        return sum(
            (
                Decimal(r["spend"])
                for r in csv.DictReader(fh)
                if r["custom_llm_provider"] == provider
            ),
            Decimal(0),
        )


def _gap_pct(gap: Decimal, gateway: Decimal) -> float:
    return round(float(100 * gap / gateway), 2)


def test_the_sample_azure_openai_account_and_bedrock_against_their_bills(
    loaded_project: ProjectConfig,
) -> None:
    root = loaded_project.root
    rows = {(r["month"], r["provider"]): r for r in _reconcile(root, "--month", "2026-10")}
    azure_lines = _latest_delivery_rows(
        root / "sample_data/billing/azure/focus-cost/20261001-20261031"
    )
    azure_bill = sum(
        (
            Decimal(r["BilledCost"])
            for r in azure_lines
            if r["ResourceId"].endswith(f"/accounts/{AZURE_ACCOUNT}")
            and r["ChargeCategory"] != "Tax"
        ),
        Decimal(0),
    )
    aws_lines = _latest_delivery_rows(
        root / "sample_data/billing/aws/focus-export/data/BILLING_PERIOD=2026-10"
    )
    bedrock_bill = sum(
        (
            Decimal(r["BilledCost"])
            for r in aws_lines
            if r["ServiceName"] == "Amazon Bedrock" and r["ChargeCategory"] != "Tax"
        ),
        Decimal(0),
    )
    for provider, bill, source, scope in (
        ("azure", azure_bill, "Microsoft bill", "Azure OpenAI lines of pool azure-openai"),
        ("bedrock", bedrock_bill, "AWS bill", "every Amazon Bedrock line of the AWS bill"),
    ):
        row = rows[("2026-10-01", provider)]
        gateway = _spend(root, "2026-10", provider)
        assert bill > 0 and gateway > 0
        assert (Decimal(row["gateway"]), Decimal(row["invoice"])) == (gateway, bill)
        assert Decimal(row["gap"]) == bill - gateway > 0  # the gateway under-counted
        assert row["gap_pct"] == _gap_pct(bill - gateway, gateway)
        assert (row["invoice_source"], row["scope"], row["currency"]) == (source, scope, "USD")
    # Only the months LiteLLM logged: 24 months of bills, 3 of gateway usage.
    every = _reconcile(root)
    assert {r["month"] for r in every} == {"2026-08-01", "2026-09-01", "2026-10-01"}


def test_without_a_pool_the_account_litellm_names_scopes_the_bill(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "p")
    (root / "pools/azure-openai.toml").unlink()
    for toml in (root / "connectors").glob("*.toml"):
        if toml.stem not in ("azure_focus", "litellm"):
            toml.unlink()
    # Another Cognitive Services account on the same bill, not the one LiteLLM calls.
    other = root / "sample_data/billing/azure/focus-cost/20261001-20261031"
    newest = max(p for p in other.iterdir() if p.is_dir())
    part = sorted(newest.glob("*.csv.gz"))[0]
    with gzip.open(part, "rt", newline="") as fh:
        reader = csv.DictReader(fh)
        header, lines = reader.fieldnames, list(reader)
    assert header is not None
    copy = dict(next(r for r in lines if r["ResourceId"].endswith(f"/accounts/{AZURE_ACCOUNT}")))
    copy["ResourceId"] = copy["ResourceId"].replace(AZURE_ACCOUNT, "oai-lab-sandbox")
    copy["ResourceName"], copy["BilledCost"] = "oai-lab-sandbox", "100.0000000000"
    with gzip.open(part, "wt", newline="") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows([*lines, copy])
    ctx = Context(load_project(root))
    pipeline.load(ctx)
    invoices = pipeline.reconcile(ctx).invoices
    [row] = invoices.filter(
        (pl.col("month") == date(2026, 10, 1)) & (pl.col("provider") == "azure")
    ).to_dicts()
    bill = sum(
        (
            Decimal(r["BilledCost"])
            for r in _latest_delivery_rows(other)
            if r["ResourceId"].endswith(f"/accounts/{AZURE_ACCOUNT}")
        ),
        Decimal(0),
    )
    assert row["scope"] == f"Azure OpenAI lines of account {AZURE_ACCOUNT}"
    assert (row["invoice"], row["gateway"]) == (bill, _spend(root, "2026-10", "azure"))
    # LiteLLM's api_base is what named the account.
    [(api_base,)] = pipeline.query(
        ctx,
        "SELECT DISTINCT tags['api_base'] FROM inference_usage WHERE provider = 'azure'",
    ).rows()
    assert api_base == f"https://{AZURE_ACCOUNT}.openai.azure.com/"


# ---- Bedrock on the AWS bill, FOCUS or CUR 2.0, with LiteLLM's bedrock usage -------------------

ACCOUNT_A, ACCOUNT_B = "210987654321", "333344445555"
PROFILE = f"arn:aws:bedrock:us-east-1:{ACCOUNT_A}:application-inference-profile/docx-claude"
# (month, account, service name, product code, resource, kind, billed cost, a Bedrock line?)
LINES = (
    ("2026-09", ACCOUNT_A, "Amazon Bedrock", "AmazonBedrock", PROFILE, "Usage", "12.3456789", True),
    ("2026-09", ACCOUNT_A, "Amazon Bedrock", "AmazonBedrock", PROFILE, "Usage", "3.21", True),
    (
        "2026-09",
        ACCOUNT_B,
        "Claude 3.5 Sonnet (Amazon Bedrock Edition)",
        "c2ufk2vxgwe3w6bnvxgn7z0ah",
        "",
        "Usage",
        "4.10",
        True,
    ),
    ("2026-09", ACCOUNT_A, "Amazon Bedrock", "AmazonBedrock", "", "Tax", "1.05", False),
    (
        "2026-09",
        ACCOUNT_A,
        "Amazon SageMaker",
        "AmazonSageMaker",
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT_A}:endpoint/ranker",
        "Usage",
        "55.04",
        False,
    ),
    (
        "2026-09",
        ACCOUNT_A,
        "Amazon Elastic Compute Cloud",
        "AmazonEC2",
        "i-0a1b",
        "Usage",
        "20",
        False,
    ),
    ("2026-10", ACCOUNT_A, "Amazon Bedrock", "AmazonBedrock", PROFILE, "Usage", "10.00", True),
    ("2026-10", ACCOUNT_A, "Amazon Bedrock", "AmazonBedrock", PROFILE, "Usage", "2.5", True),
    (
        "2026-10",
        ACCOUNT_B,
        "Amazon Bedrock",
        "AmazonBedrock",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT_B}:application-inference-profile/lab",
        "Usage",
        "7.77",
        True,
    ),
    ("2026-10", ACCOUNT_A, "Amazon EC2", "AmazonEC2", "i-0a1b", "Usage", "19.5", False),
)
# LiteLLM requests: (month, day, model, spend). September's name no account; October's go
# through account A's inference profile; November has no bill.
REQUESTS = (
    ("2026-09", 3, "anthropic.claude-3-5-sonnet-20241022-v2:0", "9.8765"),
    ("2026-09", 17, "anthropic.claude-3-5-sonnet-20241022-v2:0", "8.1"),
    ("2026-10", 2, PROFILE, "6.25"),
    ("2026-10", 20, PROFILE, "7.125"),
    ("2026-11", 1, PROFILE, "1.00"),
)


def _focus(path: Path) -> None:
    header = [
        "BillingAccountId",
        "SubAccountId",
        "ProviderName",
        "BillingPeriodStart",
        "BillingPeriodEnd",
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "ChargeCategory",
        "BilledCost",
        "EffectiveCost",
        "BillingCurrency",
        "ServiceCategory",
        "ServiceName",
        "ResourceId",
        "Tags",
    ]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for month, account, service, _code, resource, kind, cost, _ in LINES:
            start, end = f"{month}-01T00:00:00Z", _next(month)
            category = "AI and Machine Learning" if "EC2" not in service else "Compute"
            writer.writerow(
                [
                    "999988887777",
                    account,
                    "AWS",
                    start,
                    end,
                    start.replace("-01T", "-02T"),
                    start.replace("-01T", "-03T"),
                    kind,
                    cost,
                    cost,
                    "USD",
                    category,
                    service,
                    resource,
                    "",
                ]
            )


def _cur2(path: Path) -> None:
    header = [
        "bill_payer_account_id",
        "bill_billing_period_start_date",
        "bill_billing_period_end_date",
        "line_item_usage_account_id",
        "line_item_line_item_type",
        "line_item_usage_start_date",
        "line_item_usage_end_date",
        "line_item_product_code",
        "product_product_name",
        "line_item_resource_id",
        "line_item_currency_code",
        "line_item_unblended_cost",
        "resource_tags",
    ]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for month, account, service, code, resource, kind, cost, _ in LINES:
            start = f"{month}-01T00:00:00Z"
            writer.writerow(
                [
                    "999988887777",
                    start,
                    _next(month),
                    account,
                    kind,
                    start.replace("-01T", "-02T"),
                    start.replace("-01T", "-03T"),
                    code,
                    service,
                    resource,
                    "USD",
                    cost,
                    "{}",
                ]
            )


def _next(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return f"{year}-{number:02d}-01T00:00:00Z"


def _bedrock_project(root: Path, billing: str) -> Path:
    for folder in ("connectors", "models", "data"):
        (root / folder).mkdir(parents=True)
    (root / "roi.toml").write_text('[project]\nname = "bedrock"\ncurrency = "USD"\n')
    if billing == "focus":
        _focus(root / "data/focus.csv")
    else:
        _cur2(root / "data/cur.csv")
    file = "focus.csv" if billing == "focus" else "cur.csv"
    (root / "connectors/aws.toml").write_text(f'type = "{billing}"\npath = "data/{file}"\n')
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
                "api_base",
            ]
        )
        for n, (month, day, model, spend) in enumerate(REQUESTS, 1):
            writer.writerow(
                [
                    f"req-{n}",
                    "acompletion",
                    spend,
                    1_000 * n,
                    100 * n,
                    f"{month}-{day:02d} 10:00:00.000",
                    model,
                    "bedrock",
                    "https://bedrock-runtime.us-east-1.amazonaws.com",
                ]
            )
    (root / "connectors/gateway.toml").write_text(
        'type = "litellm_spend_logs"\npath = "data/spend.csv"\n'
    )
    return root


@pytest.mark.parametrize("billing", ["focus", "aws_cur"])
def test_bedrock_lines_of_a_focus_or_cur_file_against_litellm(tmp_path: Path, billing: str) -> None:
    root = _bedrock_project(tmp_path / "p", billing)
    for step in ("load", "attribute"):
        result = CliRunner().invoke(cli, [step, "--project", str(root), "--quiet"])
        assert result.exit_code == 0, result.output
    rows = {r["month"]: r for r in _reconcile(root)}
    assert set(rows) == {"2026-09-01", "2026-10-01"}  # November: no AWS bill loaded

    def gateway(month: str) -> Decimal:
        return sum((Decimal(s) for m, _, _, s in REQUESTS if m == month), Decimal(0))

    def bill(month: str, accounts: tuple[str, ...]) -> Decimal:
        return sum(
            (Decimal(c) for m, a, *_, c, llm in LINES if m == month and llm and a in accounts),
            Decimal(0),
        )

    expected = {
        # No request names its account: every Bedrock line of the month, Marketplace too.
        "2026-09-01": (bill("2026-09", (ACCOUNT_A, ACCOUNT_B)), gateway("2026-09"), None),
        # Every request went through account A's inference profile: only A's lines.
        "2026-10-01": (bill("2026-10", (ACCOUNT_A,)), gateway("2026-10"), ACCOUNT_A),
    }
    for month, (invoice, estimate, account) in expected.items():
        row = rows[month]
        assert row["provider"] == "bedrock" and row["invoice_source"] == "AWS bill"
        assert (Decimal(row["invoice"]), Decimal(row["gateway"])) == (invoice, estimate)
        assert Decimal(row["gap"]) == invoice - estimate
        assert row["gap_pct"] == _gap_pct(invoice - estimate, estimate)
        assert row["scope"] == (
            f"Amazon Bedrock lines of account {account}"
            if account
            else "every Amazon Bedrock line of the AWS bill"
        )
    assert Decimal(rows["2026-09-01"]["gap"]) > 0 > Decimal(rows["2026-10-01"]["gap"])

    table = CliRunner().invoke(cli, ["reconcile", "--project", str(root)])
    assert "cloud bill's LLM lines" in table.output and "AWS bill" in table.output
    shutil.rmtree(root)
