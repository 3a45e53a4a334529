"""The sample's cloud resources: every meter that appears in its AWS and Azure FOCUS exports.

A meter is one resource × SKU billed daily. Prices are on-demand list prices (USD, us-east-1 /
East US) as the providers published them in 2025; GPU instances carry SkuPriceDetails with
their GPU count. Tags are written the way teams really leave them: mostly right, sometimes with
a different key spelling, an old model name or nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from roi.sample.portfolio import (
    AWS_PLATFORM,
    AWS_PROD,
    AZURE_SUB,
    FIRST_MONTH,
    MODELS_BY_ID,
)

FAR_FUTURE = date(2099, 1, 1)


@dataclass(frozen=True)
class Meter:
    """One billed resource × SKU, generated as one line per day it runs."""

    key: str
    provider: str  # "AWS" | "Microsoft"
    sub_account: str
    service: str
    category: str
    subcategory: str
    resource_id: str | None
    resource_name: str | None
    resource_type: str | None
    sku_id: str
    sku_meter: str
    description: str
    unit: str  # PricingUnit / ConsumedUnit
    price: float  # list price per unit
    quantity: float  # typical units per day
    pattern: str = "flat"  # flat | weekday | training | growth | business_hours
    noise: float = 0.05
    model: str | None = None  # portfolio model the meter serves (its live window bounds it)
    tags: dict[str, str] = field(default_factory=dict)
    start: date = FIRST_MONTH
    end: date = FAR_FUTURE
    gpu_count: int | None = None
    instance_type: str | None = None
    cores: int | None = None
    memory_gb: int | None = None
    region: str = "us-east-1"
    commitment: str | None = None  # "savings_plan" | "reservation"
    service_code: str | None = None  # AWS x_ServiceCode
    operation: str | None = None  # AWS x_Operation
    resource_group: str | None = None  # Azure x_ResourceGroupName
    meter_category: str | None = None  # Azure x_SkuMeterCategory
    tag_dropout: float = 0.0  # share of days whose line arrives untagged


def arn(service: str, account: str, resource: str) -> str:
    """The ARN of a resource in us-east-1."""
    return f"arn:aws:{service}:us-east-1:{account}:{resource}"


def azure_id(group: str, provider_path: str) -> str:
    """The Azure resource id of a resource in the sample's subscription."""
    return f"/subscriptions/{AZURE_SUB}/resourcegroups/{group}/providers/{provider_path}"


def model_tags(model_id: str) -> dict[str, str]:
    """The tags a model's resources carry when tagged right: the model and its cost centre."""
    return {"ml-model": model_id, "cost-center": MODELS_BY_ID[model_id].business_unit.lower()}


SHARED_CLUSTER = "ml-shared-gpu"
SHARED_NODES = (
    ("i-0a5e11c0de0000001", "ip-10-42-1-17.ec2.internal"),
    ("i-0a5e11c0de0000002", "ip-10-42-2-33.ec2.internal"),
)
# Days the second shared GPU node was drained: its savings-plan commitment goes unused.
NODE2_DOWN = ((date(2025, 12, 24), date(2025, 12, 27)), (date(2026, 2, 10), date(2026, 2, 16)))
SAVINGS_PLAN_ARN = (
    f"arn:aws:savingsplans::{AWS_PLATFORM}:savingsplan/7c1e5f9a-3b2d-4e8f-9a6c-0d1e2f3a4b5c"
)
SAVINGS_PLAN_RATE = 0.62  # savings-plan price as a share of on-demand
RESERVATION_ID = (
    "/providers/Microsoft.Capacity/reservationOrders/5d0c9e1f-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
    "/reservations/9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"
)
RESERVATION_START = date(2025, 3, 1)
RESERVATION_END = date(2026, 2, 28)
RESERVATION_UPFRONT = 1_080.0  # 1-year, 1 × Standard_D4s_v3, all upfront

# The shared Azure OpenAI account (one per tenant) that both LLM products call through LiteLLM.
AZURE_OPENAI_ID = azure_id(
    "rg-genai-shared", "microsoft.cognitiveservices/accounts/oai-northwind-shared"
)
# LLM deployments: (deployment, provider that bills it, price per 1K input, 1K cached, 1K output)
LLM_PRICES: dict[str, tuple[str, float, float, float, float]] = {
    "gpt-4o": ("Microsoft", 0.0025, 0.00125, 0.0, 0.01),
    "gpt-4o-mini": ("Microsoft", 0.00015, 0.000075, 0.0, 0.0006),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": ("AWS", 0.003, 0.0003, 0.00375, 0.015),
    "anthropic.claude-3-haiku-20240307-v1:0": ("AWS", 0.00025, 0.00003, 0.0003, 0.00125),
    "meta-llama/Llama-3.1-8B-Instruct": ("self-hosted", 0.0, 0.0, 0.0, 0.0),
}
BEDROCK_PROFILE = arn("bedrock", AWS_PROD, "application-inference-profile/docx-claude")
