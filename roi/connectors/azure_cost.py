"""Azure Cost Management cost details exports (EA and MCA, actual and amortized) → `cost_lines`.

Column names are matched without regard to case (exports differ: `Cost`/`BillingCurrency` in
older EA files, `CostInBillingCurrency`/`BillingCurrencyCode` in newer EA and MCA ones). EA
writes dates as `MM/DD/YYYY` (or `M/D/YYYY`) and tags without their outer braces; the billing
period's end date is its last day (FOCUS's end is the next day). MCA's costs are read in the
billing currency (`CostInBillingCurrency`), never the pricing currency; its unit prices, in the
pricing currency, are converted by the row's exchange rate (`roi.connectors.azure_prices`).

Actual and amortized cost are two views of one month, so one connector reads both and combines
each billing account's month the way Microsoft converts cost details to FOCUS
(finops-toolkit): every amortized line (effective cost = its cost; billed cost 0 where a
reservation or savings plan covers it, since the purchase is what is billed), plus the actual
export's commitment purchases and refunds (billed, with no effective cost: their money is in the
amortized lines). A month with only the actual export is billed = effective = cost (the purchase
counts when it is bought); with only the amortized export, the covered lines bill nothing. Which
view a file is comes from `[options] dataset`, else from its name (`actual`, `amortized`), else
from its lines (unused-commitment lines or costed covered usage: amortized; commitment purchases
or covered usage at 0: actual; on-demand only: either, treated as actual).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import polars as pl

from roi.connectors import register
from roi.connectors.azure_prices import RATE, UNIT_PRICES, billing_prices
from roi.connectors.azure_views import (
    COMMITMENT_MODELS,
    check_currencies,
    combine,
    dataset_of,
    survey_of_read,
    view_named,
)
from roi.connectors.base import SourceSample
from roi.connectors.instance_gpus import AZURE
from roi.connectors.native_billing import (
    NativeBilling,
    focus_shaped,
    parse_source,
    read_columns,
    read_source,
)
from roi.errors import SourceError
from roi.loading.parsing import Parsed, per_distinct

CHARGE_CATEGORY = {
    "Usage": "Usage",
    "UnusedReservation": "Usage",
    "UnusedSavingsPlan": "Usage",
    "Purchase": "Purchase",
    "Tax": "Tax",
    "Refund": "Adjustment",
    "RoundingAdjustment": "Adjustment",
}
# Canonical (lower-case) name → the names exports use for it, first found wins.
SPELLINGS: dict[str, tuple[str, ...]] = {
    "cost": ("costinbillingcurrency", "cost", "pretaxcost"),
    "currency": ("billingcurrencycode", "billingcurrency"),
    "date": ("date", "usagedatetime"),
    "subscription": ("subscriptionid", "subscriptionguid"),
    "product": ("productname", "product"),
    "pricingcurrency": ("pricingcurrencycode", "pricingcurrency"),
}
# The mandatory columns (lower-case canonical name → as an error names them).
MANDATORY = {
    "billingaccountid": "BillingAccountId",
    "billingperiodstartdate": "BillingPeriodStartDate",
    "billingperiodenddate": "BillingPeriodEndDate",
    "date": "Date",
    "cost": "Cost (or CostInBillingCurrency)",
    "currency": "BillingCurrency (or BillingCurrencyCode)",
    "chargetype": "ChargeType",
}


@dataclass(frozen=True)
class AzureOptions:
    """`[options]` of an `azure_cost` connector."""

    dataset: Literal["auto", "actual", "amortized"] = "auto"
    export: str | None = None
    delivery_order: Literal["folder_name", "modified_time"] = "folder_name"


def _names(columns: list[str]) -> dict[str, str]:
    """Canonical lower-case name → the column as the file spells it."""
    lowered = {c.lower(): c for c in columns if c not in ("source_row", "source_file")}
    names = dict(lowered)
    for canonical, spellings in SPELLINGS.items():
        found = next((lowered[s] for s in spellings if s in lowered), None)
        if found is not None:
            names[canonical] = found
    return names


def _us_dates(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """`MM/DD/YYYY` (or `M/D/YYYY`) as ISO text; other text is left for the date parser."""
    frame = frame.with_columns(pl.col(columns).cast(pl.String))
    out = []
    for c in columns:
        text = pl.col(c).str.strip_chars()
        us = text.str.to_date("%m/%d/%Y", strict=False).dt.strftime("%Y-%m-%d")
        iso = pl.when(text.str.contains(r"^\d{1,2}/\d{1,2}/\d{4}$")).then(us).otherwise(text)
        out.append(per_distinct(frame, c, iso))
    return frame.with_columns(out)


def _tags_text(column: pl.Expr) -> pl.Expr:
    """EA writes tags without their outer braces: give them back, leave JSON objects as they are."""
    text = column.cast(pl.String).str.strip_chars()
    return (
        pl.when(text.is_null() | (text == ""))
        .then(None)
        .when(text.str.starts_with("{"))
        .then(text)
        .otherwise(pl.concat_str([pl.lit("{"), text, pl.lit("}")]))
    )


def _instance_type(frame: pl.DataFrame, names: Mapping[str, str]) -> pl.Expr:
    """The VM size from AdditionalInfo's ServiceType (a VM size starts with `Standard_`)."""
    if "additionalinfo" not in names:
        return pl.lit(None, pl.String)
    size = (
        pl.col(names["additionalinfo"])
        .cast(pl.String)
        .str.extract(r'"ServiceType"\s*:\s*"(Standard_[^"]+)"', 1)
    )
    return size


def _columns(frame: pl.DataFrame, names: Mapping[str, str]) -> dict[str, pl.Expr]:
    def text(name: str) -> pl.Expr:
        return pl.col(names[name]).cast(pl.String) if name in names else pl.lit(None, pl.String)

    day = pl.col(names["date"]).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    start = pl.col(names["billingperiodstartdate"])
    end = pl.col(names["billingperiodenddate"])
    # An end written as the period's last day is inclusive; FOCUS's end is the next day.
    end = pl.when(end.dt.day() == 1).then(end).otherwise(end + pl.duration(days=1))
    model = pl.col("_pricing_model")
    instance = _instance_type(frame, names)
    return {
        "provider": pl.lit("Microsoft"),
        "billing_account_id": text("billingaccountid"),
        "billing_account_name": text("billingaccountname"),
        "sub_account_id": text("subscription"),
        "sub_account_name": text("subscriptionname"),
        "invoice_id": text("invoiceid"),
        "billing_period_start": start.cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        "billing_period_end": end.cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        "charge_period_start": day,
        "charge_period_end": day + pl.duration(days=1),
        "charge_category": pl.col("_charge_type").replace_strict(
            CHARGE_CATEGORY, default="Adjustment"
        ),
        "charge_frequency": text("frequency").replace_strict(
            {"UsageBased": "Usage-Based", "Recurring": "Recurring", "OneTime": "One-Time"},
            default=None,
        ),
        "charge_description": text("product"),
        "pricing_category": model.replace_strict(
            {"OnDemand": "Standard", "Reservation": "Committed", "SavingsPlan": "Committed"}
            | {"Spot": "Dynamic"},
            default=None,
        ),
        "service_name": text("metercategory"),
        "service_category": text("servicefamily"),
        "service_subcategory": text("metersubcategory"),
        "region_id": pl.coalesce(text("resourcelocation"), text("meterregion")),
        "resource_id": text("resourceid"),
        "resource_name": text("resourcename"),
        "sku_id": text("meterid"),
        "sku_meter": text("metername"),
        "billed_cost": pl.col("_cost"),
        "effective_cost": pl.col("_cost"),
        "consumed_quantity": pl.col(names["quantity"]) if "quantity" in names else pl.lit(None),
        "consumed_unit": text("unitofmeasure"),
        "commitment_discount_id": pl.when(model.is_in(COMMITMENT_MODELS)).then(
            pl.coalesce(text("benefitid"), text("reservationid"))
        ),
        "commitment_discount_type": model.replace_strict(
            {"Reservation": "Reservation", "SavingsPlan": "Savings Plan"}, default=None
        ),
        "billing_currency": text("currency"),
        **{column: pl.col(f"_{column}") for column in UNIT_PRICES.values()},
        "tags_raw": _tags_text(pl.col(names["tags"])) if "tags" in names else pl.lit(None),
        "x_instance_type": instance,
        "x_gpu_count_raw": instance.str.to_lowercase()
        .replace_strict(AZURE, default=None, return_dtype=pl.Int32)
        .cast(pl.String),
        "_dataset": pl.col("_dataset"),
        "_charge_type": pl.col("_charge_type"),
        "_pricing_model": model,
    }


def read_azure_file(path: Path, relative: str, declared: str = "auto") -> Parsed:
    """One cost details file as FOCUS-shaped warehouse columns (before actual and amortized are
    combined), with rejects naming the source columns.

    Raises:
        SourceError: the file cannot be read or lacks a mandatory column.
    """
    raw = read_source(path, relative)
    names = _names(raw.columns)
    missing = [shown for c, shown in MANDATORY.items() if c not in names]
    if missing:
        raise SourceError(
            f"{relative}: missing Azure cost details column(s) {', '.join(missing)}; export the "
            "cost details with all their standard columns"
        )
    dates = [names[c] for c in ("billingperiodstartdate", "billingperiodenddate", "date")]
    raw = _us_dates(raw, dates)
    kinds = {c: "date" for c in dates} | {names["cost"]: "money"}
    kinds |= {names[c]: "money" for c in (*UNIT_PRICES, RATE) if c in names}
    if "quantity" in names:
        kinds[names["quantity"]] = "float"
    parsed = parse_source(raw, kinds, [*dates, names["cost"], names["billingaccountid"]])
    priced = billing_prices(parsed.frame, names)
    frame = priced.frame
    frame = frame.with_columns(
        _cost=pl.col(names["cost"]),
        _charge_type=pl.col(names["chargetype"]).cast(pl.String).str.strip_chars(),
        _pricing_model=(
            pl.col(names["pricingmodel"]).cast(pl.String).str.strip_chars()
            if "pricingmodel" in names
            else pl.lit("OnDemand")
        ),
    )
    frame = frame.with_columns(_dataset=pl.lit(dataset_of(frame, relative, declared)))
    # MCA exports have a billing profile and no plain `Cost` column; EA exports have `Cost`.
    mca = "billingprofileid" in names and "cost" not in {c.lower() for c in raw.columns}
    version = f"Azure cost details ({'MCA' if mca else 'EA'})"
    return Parsed(
        focus_shaped(frame, _columns(frame, names), version),
        pl.concat([parsed.rejects, priced.rejects]),
    )


def survey_azure(path: Path, relative: str, declared: str = "auto") -> pl.DataFrame:
    """Which view (actual, amortized) a file holds of which account's months, in which
    currency: a light read of six columns (or the full read, when that fails)."""
    wanted = {s: f"_{s}" for spellings in SPELLINGS.values() for s in spellings}
    wanted |= {"billingaccountid": "billing_account_id", "chargetype": "_charge_type"}
    wanted |= {"billingperiodstartdate": "_period", "pricingmodel": "_pricing_model"}
    light = read_columns(path, wanted)
    if light is None or not {"billing_account_id", "_period", "_charge_type"} <= set(light.columns):
        return survey_of_read(read_azure_file(path, relative, declared).frame, relative)
    frame = light

    def first(spellings: tuple[str, ...]) -> pl.Expr:
        present = [pl.col(f"_{s}") for s in spellings if f"_{s}" in frame.columns]
        return pl.coalesce(present) if present else pl.lit(None, pl.String)

    frame = _us_dates(frame, ["_period"]).with_columns(
        _cost=first(SPELLINGS["cost"]).str.strip_chars().cast(pl.Float64, strict=False),
        _pricing_model=pl.col("_pricing_model")
        if "_pricing_model" in frame.columns
        else pl.lit("OnDemand"),
        billing_currency=first(SPELLINGS["currency"]),
        billing_period_start=pl.col("_period")
        .str.to_date("%Y-%m-%d", strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC"),
    )
    dataset = dataset_of(frame, relative, declared)
    return frame.select(
        "billing_account_id",
        "billing_period_start",
        "billing_currency",
        _dataset=pl.lit(dataset),
        source_file=pl.lit(relative),
    ).unique()


@register
class AzureCostConnector(NativeBilling):
    """Azure cost details exports, EA and MCA, actual and amortized."""

    type_name = "azure_cost"
    description = "Azure cost details export, EA or MCA, actual or amortized (CSV, CSV.gz, Parquet)"
    Options: ClassVar[type[Any]] = AzureOptions
    reads_together = True

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """A cost details header: meter, charge type and a cost column."""
        cols = sample.columns
        if {"metercategory", "chargetype", "billingaccountid"} <= cols and (
            {"cost", "costinbillingcurrency", "pretaxcost"} & cols
        ):
            return "Azure cost details columns"
        return None

    def read_file(self, path: Path, relative: str) -> Parsed:
        """One cost details file (before actual and amortized are combined)."""
        return read_azure_file(path, relative, self.options.dataset)

    def survey(self, path: Path, relative: str) -> pl.DataFrame:
        """Which view of which account's months the file holds, in which currency."""
        return survey_azure(path, relative, self.options.dataset)

    def survey_read(self, frame: pl.DataFrame, relative: str) -> pl.DataFrame:
        """The file's views of its accounts' months, from its full read."""
        return survey_of_read(frame, relative)

    def read_order(self, files: list[Path]) -> list[Path] | None:
        """When every file's view is declared or named: the amortized files first (an actual
        file's lines depend on which months have an amortized view; an amortized file's on
        nothing). None when a file's view is told by its lines."""
        views = [view_named(self.relative(p), self.options.dataset) for p in files]
        if len(files) > 1 and None in views:
            return None
        order = sorted(zip(views, files, strict=True), key=lambda pair: pair[0] == "actual")
        return [path for _, path in order]

    def combine(self, frame: pl.DataFrame, surveys: pl.DataFrame) -> pl.DataFrame:
        """Actual and amortized lines of each account's month counted once."""
        check_currencies(surveys)
        return combine(frame, surveys)
