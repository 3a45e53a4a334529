"""FOCUS billing exports (1.0, 1.1, 1.2, 1.3; any provider) → `cost_lines`.

Reads CSV (optionally gzip, with or without BOM) and Parquet exactly as providers deliver them:
headers matched case-insensitively with the FOCUS renames, literal NULL/null/empty as null,
timestamps with or without `T`/`Z`, E-notation amounts, Tags as JSON text.

Providers re-deliver a whole billing period when they correct it. Files are grouped into
deliveries by their folder (AWS: `BILLING_PERIOD=2025-06/<timestamp>/`, Azure:
`<start>-<end>/<timestamp>/`); for each (provider, billing account, billing period) the delivery
whose folder sorts last wins and replaces that period in the warehouse. The cursor remembers the
winning delivery per period and the fingerprint of every file, so unchanged files are not re-read
and an older delivery can never overwrite a newer one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from roi.connectors import register
from roi.connectors.base import Connector, Extracted, Progress, TableSpec, changed_files
from roi.connectors.parsing import (
    null_if_token,
    parse_columns,
    parse_tags,
)

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
    "billing_period_start": "utc",
    "billing_period_end": "utc",
    "charge_period_start": "utc",
    "charge_period_end": "utc",
    "billed_cost": "money",
    "effective_cost": "money",
    "list_cost": "money",
    "contracted_cost": "money",
    "consumed_quantity": "float",
    "pricing_quantity": "float",
}
REQUIRED = (
    "provider", "billing_account_id", "billing_period_start", "billing_period_end",
    "charge_period_start", "charge_period_end", "charge_category", "billed_cost",
    "effective_cost", "billing_currency",
)
# Microsoft writes these placeholders where FOCUS wants null (finops-toolkit does the same).
PLACEHOLDER_COLUMNS = ("sub_account_id", "resource_id", "region_id", "commitment_discount_id")
CHARGE_CATEGORIES = {c.lower(): c for c in ("Usage", "Purchase", "Tax", "Credit", "Adjustment")}
PARTITION = ("provider", "billing_account_id", "billing_period_start")


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


def _read_text(path: Path) -> pl.DataFrame:
    if path.name.endswith(".parquet"):
        frame = pl.read_parquet(path)
        return frame.select(pl.all().cast(pl.String))
    frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", missing_utf8_is_empty_string=True)
    return frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})


def read_focus_file(path: Path, relative: str, provider: str | None) -> pl.DataFrame:
    """Read one FOCUS file into warehouse-named text columns plus lineage and hash columns."""
    raw = _read_text(path)
    raw_cols = raw.columns
    renames: dict[str, str] = {}
    for col in raw_cols:
        canonical = _CANONICAL.get(col.lower())
        if canonical and COLUMNS[canonical] not in renames.values():
            renames[col] = COLUMNS[canonical]
    gpu_col = next((c for c in raw_cols if c.lower() in ("x_gpucount", "x_gpu_count")), None)
    hashed = raw.with_columns(
        pl.concat_str([pl.col(c).fill_null("\x00") for c in raw_cols], separator="\x1f")
        .hash(seed=0)
        .alias("line_hash")
    )
    frame = hashed.select(
        [pl.col(src).alias(dst) for src, dst in renames.items()]
        + ([pl.col(gpu_col).alias("x_gpu_count_raw")] if gpu_col else [])
        + [pl.col("line_hash")]
    )
    missing = [dst for dst in COLUMNS.values() if dst not in frame.columns]
    frame = frame.with_columns([pl.lit(None, pl.String).alias(m) for m in missing])
    text_cols = [c for c in COLUMNS.values()]
    frame = frame.with_columns(null_if_token(text_cols))
    frame = frame.with_columns(
        [
            pl.when(pl.col(c).is_in(["-2", "Unassigned"])).then(None).otherwise(pl.col(c)).alias(c)
            for c in PLACEHOLDER_COLUMNS
        ]
    )
    fallback = provider or _infer_provider(raw_cols)
    if fallback:
        frame = frame.with_columns(pl.col("provider").fill_null(pl.lit(fallback)))
    if provider:
        frame = frame.with_columns(provider=pl.lit(provider))
    return frame.with_columns(
        pl.col("charge_category")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(CHARGE_CATEGORIES, default=pl.col("charge_category")),
        focus_version=pl.lit(focus_version(raw_cols)),
        source_file=pl.lit(relative),
        source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
    )


def _derive(frame: pl.DataFrame) -> pl.DataFrame:
    """Tags to a key/value map; GPU count and instance type from SkuPriceDetails or x_ columns."""
    frame = parse_tags(frame, "tags_raw")
    details = frame.select(pl.col("sku_price_details").unique()).to_series().to_list()
    import json

    rows: list[dict[str, Any]] = []
    for raw in details:
        gpu: int | None = None
        itype: str | None = None
        if raw:
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError:
                obj = None
            if isinstance(obj, dict):
                lowered = {str(k).lower(): v for k, v in obj.items()}
                g = lowered.get("gpucount", lowered.get("x_gpucount"))
                gpu = int(g) if isinstance(g, int | float) or (isinstance(g, str) and g.isdigit()) else None
                it = lowered.get("instancetype")
                itype = str(it) if it is not None else None
        rows.append({"sku_price_details": raw, "_gpu": gpu, "x_instance_type": itype})
    lookup = pl.DataFrame(
        rows, schema={"sku_price_details": pl.String, "_gpu": pl.Int32, "x_instance_type": pl.String}
    )
    frame = frame.join(lookup, on="sku_price_details", how="left", nulls_equal=True)
    x_gpu = (
        pl.col("x_gpu_count_raw").cast(pl.Float64, strict=False).cast(pl.Int32, strict=False)
        if "x_gpu_count_raw" in frame.columns
        else pl.lit(None, pl.Int32)
    )
    return frame.with_columns(x_gpu_count=pl.coalesce(pl.col("_gpu"), x_gpu)).drop(
        [c for c in ("_gpu", "x_gpu_count_raw") if c in frame.columns]
    )


def _partition_key(row: Mapping[str, Any]) -> str:
    start = row["billing_period_start"]
    return f"{row['provider']}|{row['billing_account_id']}|{start.isoformat() if start else None}"


@register
class FocusConnector(Connector):
    """FOCUS cost and usage exports from any provider."""

    type_name = "focus"
    table = TableSpec("cost_lines", ("provider", "billing_account_id", "billing_period_start",
                                     "line_hash", "line_seq"), replace_by=PARTITION)
    description = "FOCUS 1.0-1.3 billing export files (CSV, CSV.gz, Parquet) from any provider"
    suffixes = (".csv", ".csv.gz", ".parquet")

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Read new or changed deliveries; keep the newest delivery per billing period."""
        assert self.config.path is not None
        from roi.connectors.parsing import list_files

        base = Path(self.config.path)
        base = base if base.is_absolute() else self.root / base
        files = list_files(self.root, self.config.path, self.suffixes)
        changed, fingerprints = changed_files(files, state, self.relative)
        deliveries = {p.parent for p in changed}
        to_read = [p for p in files if p.parent in deliveries]
        provider = self.option("provider")
        parsed_parts: list[pl.DataFrame] = []
        reject_parts: list[pl.DataFrame] = []
        for i, path in enumerate(to_read, 1):
            progress(f"{self.config.name}: file {i}/{len(to_read)} {path.name}")
            text = read_focus_file(path, self.relative(path), provider)
            delivery = path.parent.relative_to(base).as_posix() if path.parent != base else ""
            parsed = parse_columns(text, KINDS, required=REQUIRED)
            parsed_parts.append(_derive(parsed.frame).with_columns(_delivery=pl.lit(delivery)))
            reject_parts.append(parsed.rejects)
        known: dict[str, str] = dict((state or {}).get("partitions", {}))
        if parsed_parts:
            frame = pl.concat(parsed_parts, how="diagonal_relaxed")
            frame = frame.with_columns(
                _pkey=pl.concat_str(
                    [
                        pl.col("provider").fill_null("?"),
                        pl.col("billing_account_id").fill_null("?"),
                        pl.col("billing_period_start").dt.strftime("%Y-%m-%dT%H:%M:%S%z").fill_null("?"),
                    ],
                    separator="|",
                )
            )
            newest = frame.group_by("_pkey").agg(pl.col("_delivery").max().alias("_newest"))
            stored = pl.DataFrame(
                {"_pkey": list(known), "_stored": list(known.values())},
                schema={"_pkey": pl.String, "_stored": pl.String},
            )
            winners = newest.join(stored, on="_pkey", how="left").filter(
                pl.col("_stored").is_null() | (pl.col("_newest") >= pl.col("_stored"))
            )
            frame = frame.join(
                winners.select("_pkey", pl.col("_newest").alias("_delivery")),
                on=["_pkey", "_delivery"],
                how="semi",
            )
            known.update(dict(zip(winners["_pkey"], winners["_newest"], strict=True)))
            frame = frame.sort("source_file", "source_row").with_columns(
                line_seq=pl.int_range(pl.len(), dtype=pl.Int32).over(["_pkey", "line_hash"])
            ).drop("_pkey", "_delivery")
            kept_files = set(frame["source_file"].unique().to_list())
            rejects = pl.concat(reject_parts).filter(pl.col("source_file").is_in(kept_files))
        else:
            frame = pl.DataFrame()
            rejects = pl.concat(reject_parts) if reject_parts else None
        cursor = {"files": fingerprints, "partitions": dict(sorted(known.items()))}
        extracted = Extracted(
            frame=frame,
            files=[self.relative(p) for p in to_read],
            cursor=cursor,
            skipped_files=len(files) - len(to_read),
        )
        if rejects is not None:
            extracted.rejects = rejects
        return extracted
