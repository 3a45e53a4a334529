"""roi's ground-floor words: sentinel model ids and their labels, cost types, bases, pool
bases, the money type and month arithmetic. Every layer uses these; this module imports
nothing of roi.
"""

from __future__ import annotations

import re
import typing
from datetime import date
from decimal import Decimal
from typing import Literal

if typing.TYPE_CHECKING:
    import polars as pl

    # Money: DECIMAL(38,10) in the warehouse (28 integer digits, 10 decimals), the same in
    # Polars (built on first use, below: `roi --help` must not import Polars).
    MONEY: pl.Decimal

MONEY_SQL = "DECIMAL(38,10)"


def __getattr__(name: str) -> object:
    """`MONEY`, the Polars money type, made when first imported (Polars loads in ~0.2 s)."""
    if name == "MONEY":
        import polars as pl

        globals()["MONEY"] = money = pl.Decimal(38, 10)
        return money
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# How long a reader waits by default while a writer holds the file for its final transaction.
READ_WAIT_SECONDS = 30.0
# How long a writer waits, with its rows staged, for readers to close the file (queries are short).
COMMIT_WAIT_SECONDS = 600.0
# What every `--month` option's help says about its default.
MONTH_RULE = "the latest month with billing data in cost_lines"
ZERO = Decimal(0)


# DuckDB's memory cap as written in roi.toml or on the command line: "4GB", "512MB".
MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def to_decimal(value: object) -> Decimal:
    """A money value as a Decimal (None is 0; floats through their shortest text)."""
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after `month` (before, when negative)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


UNALLOCATED = "__unallocated__"  # cost no rule could place (with a reason)
IDLE = "__idle__"  # capacity no workload held (GPU-hours) or used (commitments)
# GPU-hours workloads held but did not keep busy: a line of its own only in pools split by
# `gpu_hours_utilization` (by `gpu_hours` they are the holder's cost).
IDLE_HELD = "__idle_held__"
SENTINELS = (UNALLOCATED, IDLE, IDLE_HELD)
# How reports name the sentinels (and the charts' fold of the smaller models).
OTHER = "__other__"
SENTINEL_LABELS = {
    UNALLOCATED: "Unallocated",
    IDLE: "Idle GPU capacity",
    IDLE_HELD: "GPU held, not busy",
    OTHER: "Other models",
}

CostType = Literal[
    "inference_api",
    "gpu_compute",
    "cpu_compute",
    "storage",
    "network",
    "training",
    "platform_shared",
    "idle_gpu",
    "commitment_unused",
    "tax",
    "credit",
    "other",
]
COST_TYPES: tuple[str, ...] = typing.get_args(CostType)
# What a pool may declare its split cost as (idle, tax, credit and the like are never shared).
PoolCostType = Literal[
    "inference_api",
    "gpu_compute",
    "cpu_compute",
    "storage",
    "network",
    "training",
    "platform_shared",
    "other",
]

Basis = Literal["direct", "shared", "amortized", "idle", "unallocated"]
BASES: tuple[str, ...] = typing.get_args(Basis)

UNMATCHED_RULE = "unmatched"

# LLM usage priced from the gateway with no bill behind it (`usage_costs`), in `model_costs`.
USAGE_BASIS = "usage"

# LiteLLM provider → the FOCUS ProviderName whose bill carries that usage's cost. A provider
# not listed here (openai, anthropic, cohere, mistral, ...) bills directly, outside the clouds.
USAGE_BILLED_BY: dict[str, str] = {
    "azure": "Microsoft",
    "azure_ai": "Microsoft",
    "bedrock": "AWS",
    "sagemaker": "AWS",
    "vertex_ai": "Google Cloud",
    "vertex_ai_beta": "Google Cloud",
    "gemini": "Google Cloud",
    "oci": "Oracle",
}

# Gateway providers that are the company's own serving (vLLM, Ollama, Triton...): their tokens
# cost GPU time, already in the bills, never a price per token.
SELF_HOSTED_PROVIDERS: tuple[str, ...] = (
    "hosted_vllm",
    "vllm",
    "ollama",
    "ollama_chat",
    "lm_studio",
    "triton",
    "llamafile",
    "xinference",
)


# How a pool splits its cost (`pools/*.toml` basis).
PoolBasis = Literal[
    "gpu_hours",
    "gpu_hours_utilization",
    "tokens",
    "tokens_priced",
    "reported_cost",
    "requests",
    "direct_cost",
    "even",
    "fixed",
]
POOL_BASES: tuple[str, ...] = typing.get_args(PoolBasis)
GPU_BASES = ("gpu_hours", "gpu_hours_utilization")
TOKEN_BASES = ("tokens", "tokens_priced", "reported_cost", "requests")

# FOCUS 1.2 Cost and Usage columns (57), in the order the exports write them.
FOCUS_12_COLUMNS = (
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
)
# FOCUS 1.3 adds provider-calculated allocation, contracts and the service/host provider split.
FOCUS_13_COLUMNS = tuple(
    sorted(
        (
            *FOCUS_12_COLUMNS,
            "AllocatedMethodDetails",
            "AllocatedMethodId",
            "AllocatedResourceId",
            "AllocatedResourceName",
            "AllocatedTags",
            "ContractApplied",
            "HostProviderName",
            "ServiceProviderName",
        )
    )
)

# The labels AWS split cost allocation data puts on pods' and tasks' rows, by the key CUR 2.0
# writes in `resource_tags` (and a legacy CUR in Parquet as `resource_tags_aws_eks_namespace`)
# → as AWS names the cost allocation tag (Billing's cost allocation tags page, Cost Explorer, the
# legacy CUR's `resourceTags/aws:eks:namespace` columns). roi stores AWS's name whichever report
# wrote it, so one selector matches both; CUR 2.0's spelling cannot be turned back by rule (`:`,
# `-` and camelCase all become `_`), hence the table.
SPLIT_TAG_KEYS = {
    "aws_eks_cluster_name": "aws:eks:cluster-name",
    "aws_eks_namespace": "aws:eks:namespace",
    "aws_eks_node": "aws:eks:node",
    "aws_eks_workload_name": "aws:eks:workload-name",
    "aws_eks_workload_type": "aws:eks:workload-type",
    "aws_eks_deployment": "aws:eks:deployment",
    "aws_ecs_cluster_name": "aws:ecs:clusterName",
    "aws_ecs_service_name": "aws:ecs:serviceName",
    "aws_batch_compute_environment": "aws:batch:compute-environment",
    "aws_batch_job_definition": "aws:batch:job-definition",
    "aws_batch_job_queue": "aws:batch:job-queue",
}
# The `focus_version` of lines read from a CUR (`roi.connectors.aws_cur`).
CUR_VERSIONS = ("CUR 2.0", "CUR (legacy)")
