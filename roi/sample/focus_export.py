"""Rendering the sample's billing lines as FOCUS 1.2 exports, the way AWS and Azure write them:
the 57 FOCUS columns in spec order, each provider's own `x_` columns, timestamps, invoice ids,
commitment columns; and the first, faulty delivery of the month AWS re-issued."""

from __future__ import annotations

import polars as pl

from roi.sample.meters import SAVINGS_PLAN_ARN
from roi.sample.portfolio import (
    AWS_PAYER,
    AWS_PLATFORM,
    AWS_PROD,
    AWS_SANDBOX,
    AZURE_BILLING_ACCOUNT,
    AZURE_SUB,
)
from roi.vocabulary import FOCUS_12_COLUMNS, MONEY

AWS_EXTRA = ("x_Discounts", "x_Operation", "x_ServiceCode")
AZURE_EXTRA = ("x_BillingProfileId", "x_ResourceGroupName", "x_SkuMeterCategory")

SUB_ACCOUNT_NAMES = {
    AWS_PROD: "nw-ml-production",
    AWS_SANDBOX: "nw-ml-sandbox",
    AWS_PLATFORM: "nw-ml-platform",
    AZURE_SUB: "nw-ml-azure-prod",
}
REGION_NAMES = {"us-east-1": "US East (N. Virginia)", "eastus": "East US"}


def _ts(expr: pl.Expr, provider_is_aws: bool) -> pl.Expr:
    fmt = "%Y-%m-%dT%H:%M:%S.000Z" if provider_is_aws else "%Y-%m-%dT%H:%M:%SZ"
    return expr.cast(pl.Datetime("us")).dt.strftime(fmt)


def _money(expr: pl.Expr) -> pl.Expr:
    return expr.round(10).cast(MONEY)


def _account_columns(provider: str, month: pl.Expr) -> dict[str, pl.Expr]:
    """Who bills and who is billed: billing account, invoice, publisher, sub-account."""
    aws = provider == "AWS"
    issuer = "Amazon Web Services, Inc." if aws else "Microsoft"
    invoice = (
        pl.lit("EUINUS") + month.dt.strftime("%y%m") + pl.lit("-77201")
        if aws
        else pl.lit("G") + month.dt.strftime("%y%m") + pl.lit("83617")
    )
    return {
        "BillingAccountId": pl.lit(AWS_PAYER if aws else AZURE_BILLING_ACCOUNT),
        "BillingAccountName": pl.lit(
            "Northwind Holdings" if aws else "Northwind Enterprise Agreement"
        ),
        "BillingAccountType": pl.lit("Management Account" if aws else "Billing Account"),
        "BillingCurrency": pl.lit("USD"),
        "InvoiceId": invoice,
        "InvoiceIssuerName": pl.lit(issuer),
        "ProviderName": pl.lit(provider),
        "PublisherName": pl.lit(issuer),
        "SubAccountId": pl.col("sub_account"),
        "SubAccountName": pl.col("sub_account").replace_strict(SUB_ACCOUNT_NAMES, default=None),
        "SubAccountType": pl.lit("Member Account" if aws else "Subscription"),
    }


def _period_columns(aws: bool, month: pl.Expr) -> dict[str, pl.Expr]:
    """The charge itself and the periods it covers, as timestamps in the provider's format."""
    return {
        "BillingPeriodEnd": _ts(month.dt.offset_by("1mo"), aws),
        "BillingPeriodStart": _ts(month, aws),
        "ChargeCategory": pl.col("charge_category"),
        "ChargeClass": pl.col("charge_class"),
        "ChargeDescription": pl.col("description"),
        "ChargeFrequency": pl.col("charge_frequency"),
        "ChargePeriodEnd": _ts(pl.col("period_end"), aws),
        "ChargePeriodStart": _ts(pl.col("period_start"), aws),
    }


def _commitment_columns() -> dict[str, pl.Expr]:
    """Which commitment discount a line used (the savings plan or the reservation), and how."""
    usage = pl.col("charge_category") == "Usage"
    committed = pl.col("commitment_id").is_not_null()
    sp = pl.col("commitment_id") == SAVINGS_PLAN_ARN

    def per_kind(savings_plan: str, reservation: str, when: pl.Expr = committed) -> pl.Expr:
        """The savings plan's or the reservation's value on the lines `when` holds for."""
        return (
            pl.when(when)
            .then(pl.when(sp).then(pl.lit(savings_plan)).otherwise(pl.lit(reservation)))
            .otherwise(None)
        )

    return {
        "CommitmentDiscountCategory": per_kind("Spend", "Usage"),
        "CommitmentDiscountId": pl.col("commitment_id"),
        "CommitmentDiscountName": per_kind("ml-gpu-compute-sp", "churn-d4sv3-1y"),
        "CommitmentDiscountQuantity": pl.when(committed & usage)
        .then(pl.col("effective").round(6).cast(pl.String))
        .otherwise(None),
        "CommitmentDiscountStatus": pl.col("commitment_status"),
        "CommitmentDiscountType": per_kind("Savings Plan", "Reservation"),
        "CommitmentDiscountUnit": per_kind("USD", "Hours", committed & usage),
        "ContractedCost": _money(
            pl.when(committed & usage).then(pl.col("effective")).otherwise(pl.col("billed"))
        ),
    }


def _cost_columns() -> dict[str, pl.Expr]:
    """Costs, unit prices and quantities (prices as the text the exports write)."""
    usage = pl.col("charge_category") == "Usage"
    price = pl.col("list_price").cast(pl.String)
    return {
        "BilledCost": _money(pl.col("billed")),
        "CapacityReservationId": pl.lit(None, pl.String),
        "CapacityReservationStatus": pl.lit(None, pl.String),
        "ConsumedQuantity": pl.when(usage & pl.col("quantity").is_not_null())
        .then(pl.col("quantity").round(6).cast(pl.String))
        .otherwise(None),
        "ConsumedUnit": pl.when(usage).then(pl.col("unit")).otherwise(None),
        "ContractedUnitPrice": price,
        "EffectiveCost": _money(pl.col("effective")),
        "ListCost": _money(pl.col("list_cost")),
        "ListUnitPrice": price,
        "PricingCategory": pl.col("pricing_category"),
        "PricingCurrency": pl.lit("USD"),
        "PricingCurrencyContractedUnitPrice": price,
        "PricingCurrencyEffectiveCost": _money(pl.col("effective")),
        "PricingCurrencyListUnitPrice": price,
        "PricingQuantity": pl.col("quantity").round(6).cast(pl.String),
        "PricingUnit": pl.col("unit"),
    }


def _resource_columns(aws: bool) -> dict[str, pl.Expr]:
    """Where the cost arose: region, resource, service, SKU and tags."""
    return {
        "AvailabilityZone": pl.when(pl.col("service") == "Amazon Elastic Compute Cloud")
        .then(pl.lit("us-east-1a"))
        .otherwise(None)
        if aws
        else pl.lit(None, pl.String),
        "RegionId": pl.col("region"),
        "RegionName": pl.col("region").replace_strict(REGION_NAMES, default=None),
        "ResourceId": pl.col("resource_id"),
        "ResourceName": pl.col("resource_name"),
        "ResourceType": pl.col("resource_type"),
        "ServiceCategory": pl.col("category"),
        "ServiceName": pl.col("service"),
        "ServiceSubcategory": pl.col("subcategory"),
        "SkuId": pl.col("sku_id"),
        "SkuMeter": pl.col("sku_meter"),
        "SkuPriceDetails": pl.col("sku_details"),
        "SkuPriceId": pl.when(pl.col("sku_id").is_not_null())
        .then(pl.col("sku_id") + pl.lit(".JRTCKXETXF.6YS6EN2CT7" if aws else "_P1Y"))
        .otherwise(None),
        "Tags": pl.col("tags"),
    }


def _provider_columns(aws: bool) -> dict[str, pl.Expr]:
    """The provider's own `x_` columns (AWS_EXTRA or AZURE_EXTRA)."""
    if aws:
        return {
            "x_Discounts": pl.lit(None, pl.String),
            "x_Operation": pl.col("operation"),
            "x_ServiceCode": pl.col("service_code"),
        }
    return {
        "x_BillingProfileId": pl.lit("PF7A-3Q2M-BG7-TGB"),
        "x_ResourceGroupName": pl.col("resource_group"),
        "x_SkuMeterCategory": pl.col("meter_category"),
    }


def focus_frame(lines: pl.DataFrame, provider: str) -> pl.DataFrame:
    """Render working lines of one provider as a FOCUS 1.2 export (text columns in spec order).

    The frame keeps a `_month` column (the billing month) for splitting it into deliveries.
    """
    aws = provider == "AWS"
    month = pl.col("billing_month")
    focus = (
        _account_columns(provider, month)
        | _period_columns(aws, month)
        | _commitment_columns()
        | _cost_columns()
        | _resource_columns(aws)
    )
    extra = _provider_columns(aws)
    return lines.filter(pl.col("provider") == provider).select(
        *(focus[name].alias(name) for name in FOCUS_12_COLUMNS),
        *(extra[name].alias(name) for name in (AWS_EXTRA if aws else AZURE_EXTRA)),
        _month=month,
    )


def original_delivery(corrected: pl.DataFrame) -> pl.DataFrame:
    """What AWS first delivered for the re-issued month: three endpoint days billed twice, the
    last day of the search domain missing. The re-issue fixes both."""
    doubled = (pl.col("ResourceName") == "fraud-detector-prod") & pl.col(
        "ChargePeriodStart"
    ).str.slice(0, 10).is_in(["2025-06-10", "2025-06-11", "2025-06-12"])
    missing = (pl.col("ResourceName") == "search-helpcentre") & (
        pl.col("ChargePeriodStart").str.slice(0, 10) == "2025-06-30"
    )
    twice = pl.concat([corrected, corrected.filter(doubled.fill_null(False))])
    return twice.filter(~missing.fill_null(False))


assert len(FOCUS_12_COLUMNS) == 57, len(FOCUS_12_COLUMNS)
