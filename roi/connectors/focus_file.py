"""Reading one FOCUS file (CSV, CSV.gz or Parquet) as its provider wrote it: headers matched
case-insensitively with the FOCUS renames, the version told from the columns, the provider from
ProviderName (or the connector's option), values typed strictly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from roi.errors import SourceError
from roi.loading.csv_text import read_csv_text
from roi.loading.parsing import null_if_token, read_parquet_rows
from roi.tables import CHARGE_CATEGORIES


@dataclass(frozen=True)
class FocusOptions:
    """`[options]` of a `focus` connector: where the export is, and the quirks of files that
    are not quite FOCUS (the spec's own examples, hand-made or spreadsheet-saved files)."""

    provider: str | None = None  # for files without ProviderName
    export: str | None = None  # the export's name when the folder layout does not say it
    delivery_order: Literal["folder_name", "modified_time"] = "folder_name"
    billing_account: str | None = None  # for files without BillingAccountId
    currency: str | None = None  # for files without BillingCurrency (an ISO code, e.g. USD)
    dates: Literal["iso", "us", "dmy"] = "iso"  # us: 4/1/25 is April 1st; dmy: January 4th
    currency_symbols: bool = False  # amounts written like "$10,100.00": symbol and commas go


# FOCUS column → warehouse column.
COLUMNS: dict[str, str] = {
    "ProviderName": "provider",
    "BillingAccountId": "billing_account_id",
    "BillingAccountName": "billing_account_name",
    "SubAccountId": "sub_account_id",
    "SubAccountName": "sub_account_name",
    "InvoiceId": "invoice_id",
    "BillingPeriodStart": "billing_period_start",
    "BillingPeriodEnd": "billing_period_end",
    "ChargePeriodStart": "charge_period_start",
    "ChargePeriodEnd": "charge_period_end",
    "ChargeCategory": "charge_category",
    "ChargeClass": "charge_class",
    "ChargeFrequency": "charge_frequency",
    "ChargeDescription": "charge_description",
    "PricingCategory": "pricing_category",
    "ServiceName": "service_name",
    "ServiceCategory": "service_category",
    "ServiceSubcategory": "service_subcategory",
    "RegionId": "region_id",
    "ResourceId": "resource_id",
    "ResourceName": "resource_name",
    "ResourceType": "resource_type",
    "SkuId": "sku_id",
    "SkuPriceId": "sku_price_id",
    "SkuMeter": "sku_meter",
    "BilledCost": "billed_cost",
    "EffectiveCost": "effective_cost",
    "ListCost": "list_cost",
    "ContractedCost": "contracted_cost",
    "ListUnitPrice": "list_unit_price",
    "ContractedUnitPrice": "contracted_unit_price",
    "ConsumedQuantity": "consumed_quantity",
    "ConsumedUnit": "consumed_unit",
    "PricingQuantity": "pricing_quantity",
    "PricingUnit": "pricing_unit",
    "CommitmentDiscountId": "commitment_discount_id",
    "CommitmentDiscountType": "commitment_discount_type",
    "CommitmentDiscountCategory": "commitment_discount_category",
    "CommitmentDiscountStatus": "commitment_discount_status",
    "BillingCurrency": "billing_currency",
    "Tags": "tags_raw",
    "SkuPriceDetails": "sku_price_details",
    "x_EffectiveUnitPrice": "x_effective_unit_price",  # Microsoft's and the FinOps toolkit's
}

# Older names and non-spec spellings seen in real files (formats-cost.md §2.1).
ALIASES: dict[str, str] = {
    "amortizedcost": "EffectiveCost",
    "chargetype": "ChargeCategory",
    "usagequantity": "ConsumedQuantity",
    "usageunit": "ConsumedUnit",
    "region": "RegionId",
    "provider": "ProviderName",
    "serviceprovidername": "ProviderName",
    "resourceid": "ResourceId",
    "skupriceid": "SkuPriceId",
}
_CANONICAL = {name.lower(): name for name in COLUMNS} | ALIASES

KINDS = {
    # A billing period is a calendar month as the provider writes it: 2026-10-01T00:00+02:00
    # starts October, whatever its UTC instant (stored as midnight UTC of that date).
    "billing_period_start": "calendar_day",
    "billing_period_end": "calendar_day",
    "charge_period_start": "utc",
    "charge_period_end": "utc",
    "billed_cost": "money",
    "effective_cost": "money",
    "list_cost": "money",
    "contracted_cost": "money",
    "list_unit_price": "money",
    "contracted_unit_price": "money",
    "x_effective_unit_price": "money",
    "consumed_quantity": "float",
    "pricing_quantity": "float",
}
REQUIRED = (
    "provider",
    "billing_account_id",
    "billing_period_start",
    "billing_period_end",
    "charge_period_start",
    "charge_period_end",
    "charge_category",
    "billed_cost",
    "effective_cost",
    "billing_currency",
)
# Microsoft writes these placeholders where FOCUS wants null (finops-toolkit does the same).
PLACEHOLDER_COLUMNS = ("sub_account_id", "resource_id", "region_id", "commitment_discount_id")
CHARGE_CATEGORY_CASE = {c.lower(): c for c in CHARGE_CATEGORIES}


def focus_version(columns: list[str]) -> str:
    """Detect the FOCUS version from the columns present (the finops-toolkit rule)."""
    cols = {c.lower() for c in columns}
    if {"serviceprovidername", "allocatedmethodid"} & cols:
        return "1.3"
    if {"invoiceid", "pricingcurrency"} & cols:
        return "1.2"
    if {"skumeter", "skupricedetails", "servicesubcategory"} & cols:
        return "1.1"
    if {"chargeclass", "consumedquantity", "contractedcost"} & cols:
        return "1.0"
    return "1.0-preview"


def _infer_provider(columns: list[str]) -> str | None:
    cols = {c.lower() for c in columns}
    if {"x_servicecode", "x_usagetype", "x_operation"} & cols:
        return "AWS"
    if {"x_billingprofileid", "x_resourcegroupname"} & cols:
        return "Microsoft"
    if {"x_project", "x_credits"} & cols:
        return "Google Cloud"
    return None


# Columns a file must have to be read as FOCUS (ProviderName may come from options or x_ columns).
MANDATORY_SOURCE = (
    "BillingAccountId",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
)


def _read_raw(path: Path, relative: str) -> pl.DataFrame:
    if path.name.endswith(".parquet"):
        frame = read_parquet_rows(path, relative)
        if not frame.height:
            raise SourceError(
                f"{relative}: a Parquet file with no rows; re-export it (an export with nothing "
                "in it is usually a failed one)"
            )
        return frame
    frame = read_csv_text(path, relative)
    if not frame.height:
        raise SourceError(
            f"{relative}: a header row and no billing lines; re-export it (a billing export "
            "with nothing in it is usually a failed one)"
        )
    return frame


def _renames(raw_cols: list[str], relative: str) -> dict[str, str]:
    """Source column → warehouse column. FOCUS names win over older aliases (a 1.3 file keeps
    ProviderName beside ServiceProviderName); one FOCUS name spelt twice is an error."""
    exact: dict[str, str] = {}
    for col in raw_cols:
        canonical = COLUMNS.get(col) or next(
            (COLUMNS[n] for n in COLUMNS if n.lower() == col.lower()), None
        )
        if canonical is None:
            continue
        if canonical in exact.values():
            other = next(c for c, m in exact.items() if m == canonical)
            raise SourceError(
                f"{relative}: columns {other!r} and {col!r} are the same FOCUS column; remove "
                "one of them (which one holds the right values cannot be guessed)"
            )
        exact[col] = canonical
    renames = dict(exact)
    for col in raw_cols:
        alias = ALIASES.get(col.lower())
        if col in exact or alias is None or COLUMNS[alias] in renames.values():
            continue
        renames[col] = COLUMNS[alias]
    return renames


DATE_COLUMNS = (
    "billing_period_start",
    "billing_period_end",
    "charge_period_start",
    "charge_period_end",
)
MONEY_COLUMNS = (
    "billed_cost",
    "effective_cost",
    "list_cost",
    "contracted_cost",
    "list_unit_price",
    "contracted_unit_price",
    "x_effective_unit_price",
)
_SLASHED = r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(.*)$"


def _slashed_dates(frame: pl.DataFrame, order: str) -> pl.DataFrame:
    """`4/1/25` or `04/01/2025 13:00` (month first for `us`, day first for `dmy`) as ISO text;
    a two-digit year is 20YY. Text in other shapes is left for the date parser to judge."""
    out = []
    for c in DATE_COLUMNS:
        if frame.schema[c] != pl.String:
            continue
        text = pl.col(c).str.strip_chars()
        parts = text.str.extract_groups(_SLASHED)
        year = parts.struct.field("3")
        year = pl.when(year.str.len_chars() == 2).then(pl.lit("20") + year).otherwise(year)
        first, second = (parts.struct.field("1"), parts.struct.field("2"))
        m, d = (first, second) if order == "us" else (second, first)
        iso = pl.concat_str(
            year, pl.lit("-"), m.str.zfill(2), pl.lit("-"), d.str.zfill(2), parts.struct.field("4")
        )
        out.append(pl.when(text.str.contains(_SLASHED)).then(iso).otherwise(text).alias(c))
    return frame.with_columns(out)


def _plain_amounts(frame: pl.DataFrame) -> pl.DataFrame:
    """Amounts without their currency symbol, thousands commas and spaces (`$10,100.00 `)."""
    return frame.with_columns(
        pl.col(c).str.replace_all(r"[$€£¥,\s]", "")
        for c in MONEY_COLUMNS
        if frame.schema[c] == pl.String
    )


def _allocated(frame: pl.DataFrame, raw: pl.DataFrame, raw_cols: list[str]) -> pl.DataFrame:
    """FOCUS 1.3 split charges (a provider's own allocation, or `roi export focus`): the row's
    allocated workload and its tags stand for the line's (formats-cost.md §2.4: prefer
    AllocatedTags on those rows), so selectors match what the cost was split to."""
    lowered = {c.lower(): c for c in raw_cols}
    pairs = (("allocatedtags", "tags_raw"), ("allocatedresourceid", "resource_id"))
    out = []
    for source, target in pairs:
        if source in lowered and target in frame.columns:
            allocated = raw[lowered[source]].cast(pl.String)
            out.append(pl.coalesce(pl.lit(allocated), pl.col(target).cast(pl.String)).alias(target))
    return frame.with_columns(out) if out else frame


def read_focus_file(
    path: Path, relative: str, options: FocusOptions = FocusOptions()
) -> pl.DataFrame:
    """Read one FOCUS file into warehouse-named columns (text, or typed where Parquet typed them).

    Raises:
        SourceError: the file cannot be read or lacks a mandatory FOCUS column.
    """
    provider = options.provider
    raw = _read_raw(path, relative)
    raw_cols = [c for c in raw.columns if c != "source_row"]
    renames = _renames(raw_cols, relative)
    found = set(renames.values())
    given = {"BillingAccountId": options.billing_account, "BillingCurrency": options.currency}
    missing = [c for c in MANDATORY_SOURCE if COLUMNS[c] not in found and not given.get(c)]
    inferred = provider or _infer_provider(raw_cols)
    if "provider" not in found and not inferred and missing:
        missing.append("ProviderName")
    if missing:
        present = ", ".join(raw_cols[:8]) + (", ..." if len(raw_cols) > 8 else "")
        raise SourceError(
            f"{relative}: missing FOCUS column(s) {', '.join(missing)} (the file has {present}); "
            "export a FOCUS cost and usage dataset with all mandatory columns (a file that "
            "has no account or currency column can name them: --option billing_account=ID, "
            "--option currency=USD)"
        )
    if "provider" not in found and not inferred:
        raise SourceError(
            f"{relative}: no ProviderName column and the provider cannot be told from the "
            'columns; set options.provider (e.g. provider = "AWS", or --option provider=AWS)'
        )
    gpu_col = next((c for c in raw_cols if c.lower() in ("x_gpucount", "x_gpu_count")), None)
    frame = raw.select(
        [pl.col(src).alias(dst) for src, dst in renames.items()]
        + ([pl.col(gpu_col).cast(pl.String).alias("x_gpu_count_raw")] if gpu_col else [])
        + [pl.col("source_row")]
    )
    frame = _allocated(frame, raw, raw_cols)
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias(m) for m in COLUMNS.values() if m not in frame.columns
    ).with_columns(pl.col(pl.Null).cast(pl.String))  # Parquet columns with no value at all
    text_cols = [c for c in COLUMNS.values() if frame.schema[c] == pl.String]
    frame = frame.with_columns(null_if_token(text_cols))
    frame = frame.with_columns(
        pl.when(pl.col(c).is_in(["-2", "Unassigned"])).then(None).otherwise(pl.col(c)).alias(c)
        for c in PLACEHOLDER_COLUMNS
        if frame.schema[c] == pl.String
    )
    if options.billing_account and "billing_account_id" not in found:
        frame = frame.with_columns(billing_account_id=pl.lit(options.billing_account))
    if options.currency and "billing_currency" not in found:
        frame = frame.with_columns(billing_currency=pl.lit(options.currency))
    if options.dates != "iso":
        frame = _slashed_dates(frame, options.dates)
    if options.currency_symbols:
        frame = _plain_amounts(frame)
    if provider:
        frame = frame.with_columns(provider=pl.lit(provider))
    elif inferred:
        frame = frame.with_columns(pl.col("provider").fill_null(pl.lit(inferred)))
    return frame.with_columns(
        pl.col("charge_category")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(CHARGE_CATEGORY_CASE, default=pl.col("charge_category")),
        focus_version=pl.lit(focus_version(raw_cols)),
        source_file=pl.lit(relative),
    )
