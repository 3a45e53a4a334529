"""AWS Cost and Usage Reports, legacy CUR and CUR 2.0 (Data Exports) → `cost_lines`.

Both are read through one set of names: the legacy `lineItem/UnblendedCost` columns are renamed
the way CUR 2.0 renamed them (`line_item_unblended_cost`), errors still name the column as the
file wrote it. Billed cost is the unblended cost (what the invoice sums); effective cost follows
AWS's amortisation (the CUDOS convention, formats-cost.md §4): Savings Plan and reservation
effective cost for covered usage, 0 for the negation and upfront-fee lines (their money is in
the covered usage), the unused part of a commitment's recurring fee as its own line. Tax,
credits, discounts and refunds keep their own charge categories. Tags come from the
`resourceTags/user:<key>` columns (legacy) or the `resource_tags` map (CUR 2.0, `user_` prefix
dropped; split cost allocation labels under AWS's own names, `aws:eks:namespace` for
`aws_eks_namespace`, as the legacy CUR writes them); the GPU count from the instance type.

EKS and ECS split cost allocation data (`split_line_item_*`): each pod's (task's) share of its
EC2 instance's lines becomes a FOCUS 1.3 split charge under the pod's ARN and labels, the
totals unchanged (`roi.connectors.cur_split`).

Deliveries: legacy CUR writes `<report>/<yyyymmdd-yyyymmdd>/<assembly id>/<report>-N.csv.gz` with
a `<report>-Manifest.json` naming its `reportKeys`; CUR 2.0 writes
`<export>/data/BILLING_PERIOD=YYYY-MM/...` with a manifest under `metadata/` naming its
`dataFiles`. A delivery whose manifest names a part that is not there is an error: loading the
rest would under-count the month.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from roi.config import ConnectorConfig
from roi.connectors import register
from roi.connectors.base import SourceSample
from roi.connectors.cur_split import tag_key, tag_key_expr
from roi.connectors.cur_split_read import SplitDeliveries, helper_columns
from roi.connectors.instance_gpus import AWS
from roi.connectors.native_billing import (
    NativeBilling,
    camel_to_snake,
    focus_shaped,
    number_or_zero,
    parse_source,
    read_source,
    require,
    tags_json,
    text_or_null,
)
from roi.errors import SourceError
from roi.loading.parsing import Parsed, map_distinct
from roi.loading.tags import map_entries
from roi.vocabulary import CUR_VERSIONS

KINDS = {
    "bill_billing_period_start_date": "calendar_day",
    "bill_billing_period_end_date": "calendar_day",
    "line_item_usage_start_date": "utc",
    "line_item_usage_end_date": "utc",
    "line_item_unblended_cost": "money",
    "savings_plan_savings_plan_effective_cost": "money",
    "savings_plan_total_commitment_to_date": "money",
    "savings_plan_used_commitment": "money",
    "reservation_effective_cost": "money",
    "reservation_unused_amortized_upfront_fee_for_billing_period": "money",
    "reservation_unused_recurring_fee": "money",
    "pricing_public_on_demand_cost": "money",
    "line_item_usage_amount": "float",
    "split_line_item_split_cost": "money",
    "split_line_item_unused_cost": "money",
}
# The mandatory columns, as CUR 2.0 names them → as the legacy CUR does.
MANDATORY = {
    "bill_payer_account_id": "bill/PayerAccountId",
    "bill_billing_period_start_date": "bill/BillingPeriodStartDate",
    "bill_billing_period_end_date": "bill/BillingPeriodEndDate",
    "line_item_usage_start_date": "lineItem/UsageStartDate",
    "line_item_usage_end_date": "lineItem/UsageEndDate",
    "line_item_line_item_type": "lineItem/LineItemType",
    "line_item_unblended_cost": "lineItem/UnblendedCost",
    "line_item_currency_code": "lineItem/CurrencyCode",
}
REQUIRED = tuple(MANDATORY)
CHARGE_CATEGORY = {
    "Usage": "Usage",
    "DiscountedUsage": "Usage",
    "SavingsPlanCoveredUsage": "Usage",
    "SavingsPlanNegation": "Credit",
    "Fee": "Purchase",
    "RIFee": "Purchase",
    "SavingsPlanUpfrontFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase",
    "Tax": "Tax",
    "Credit": "Credit",
    "Discount": "Credit",
    "EdpDiscount": "Credit",
    "BundledDiscount": "Credit",
    "PrivateRateDiscount": "Credit",
    "DistributorDiscount": "Credit",
    "Refund": "Adjustment",
}
PRICING_CATEGORY = {"OnDemand": "Standard", "Reserved": "Committed", "Spot": "Dynamic"}


def cur_names(columns: list[str]) -> dict[str, str]:
    """Source column → CUR 2.0 name, for the columns that are not tags."""
    return {
        c: camel_to_snake(c) if "/" in c else c
        for c in columns
        if not c.lower().startswith(("resourcetags/", "resource_tags"))
        and c not in ("source_row", "source_file")
    }


def tag_columns(columns: list[str]) -> dict[str, str]:
    """One column per tag (legacy CUR): column → tag key (`user:` and `user_` dropped, split
    cost allocation labels as AWS names them: `tag_key`)."""
    keys = {}
    for c in columns:
        lowered = c.lower()
        if lowered.startswith("resourcetags/"):
            key = c.split("/", 1)[1]
            keys[c] = key.removeprefix("user:")
        elif lowered.startswith("resource_tags_"):
            keys[c] = tag_key(c.removeprefix("resource_tags_"))
    return keys


def _cur2_tag_text(raw: str | None) -> str | None:
    """CUR 2.0 `resource_tags` written as JSON text, keys as roi stores them (`tag_key`)."""
    if raw is None:
        return None
    try:
        found = json.loads(raw)
    except json.JSONDecodeError:
        return raw  # not JSON: the tag reader rejects it, naming the row
    if not isinstance(found, dict):
        return raw
    return json.dumps({tag_key(str(k)): v for k, v in found.items()})


def _tags(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.Expr]:
    """The frame (with a helper column when needed) and the tags_raw expression."""
    if "resource_tags" in frame.columns:
        if frame.schema["resource_tags"] == pl.String:
            frame = map_distinct(frame, "resource_tags", "_tags", _cur2_tag_text)
            return frame, pl.col("_tags")
        frame = map_entries(frame, "resource_tags")
        entry = pl.element()
        renamed = pl.col("resource_tags").list.eval(
            pl.struct(
                tag_key_expr(entry.struct.field("key")).alias("key"),
                entry.struct.field("value"),
            )
        )
        return frame, renamed
    return frame, tags_json(frame, tag_columns(frame.columns))


def effective_cost(frame: pl.DataFrame) -> pl.Expr:
    """AWS amortised cost by line item type (CUDOS convention)."""
    kind = pl.col("line_item_line_item_type")
    unblended = pl.col("line_item_unblended_cost")
    reservation_arn = text_or_null(frame, "reservation_reservation_a_r_n")
    return (
        pl.when(kind == "SavingsPlanCoveredUsage")
        .then(number_or_zero(frame, "savings_plan_savings_plan_effective_cost"))
        .when(kind == "DiscountedUsage")
        .then(number_or_zero(frame, "reservation_effective_cost"))
        .when(kind.is_in(["SavingsPlanNegation", "SavingsPlanUpfrontFee"]))
        .then(pl.lit(0))
        .when(kind == "SavingsPlanRecurringFee")
        .then(
            number_or_zero(frame, "savings_plan_total_commitment_to_date")
            - number_or_zero(frame, "savings_plan_used_commitment")
        )
        .when(kind == "RIFee")
        .then(
            number_or_zero(frame, "reservation_unused_amortized_upfront_fee_for_billing_period")
            + number_or_zero(frame, "reservation_unused_recurring_fee")
        )
        .when((kind == "Fee") & reservation_arn.is_not_null())
        .then(pl.lit(0))  # a reservation's upfront fee: amortised into its covered usage
        .otherwise(unblended)
    )


def _columns(frame: pl.DataFrame, tags: pl.Expr) -> dict[str, pl.Expr]:
    kind = pl.col("line_item_line_item_type")
    sp_arn = text_or_null(frame, "savings_plan_savings_plan_a_r_n")
    ri_arn = text_or_null(frame, "reservation_reservation_a_r_n")
    instance = text_or_null(frame, "product_instance_type")
    return helper_columns(frame) | {
        "provider": pl.lit("AWS"),
        "billing_account_id": pl.col("bill_payer_account_id").cast(pl.String),
        "billing_account_name": text_or_null(frame, "bill_payer_account_name"),
        "sub_account_id": text_or_null(frame, "line_item_usage_account_id"),
        "sub_account_name": text_or_null(frame, "line_item_usage_account_name"),
        "invoice_id": text_or_null(frame, "bill_invoice_id"),
        "billing_period_start": pl.col("bill_billing_period_start_date"),
        "billing_period_end": pl.col("bill_billing_period_end_date"),
        "charge_period_start": pl.col("line_item_usage_start_date"),
        "charge_period_end": pl.col("line_item_usage_end_date"),
        "charge_category": kind.replace_strict(CHARGE_CATEGORY, default="Adjustment"),
        "charge_frequency": pl.when(kind.is_in(["RIFee", "SavingsPlanRecurringFee"]))
        .then(pl.lit("Recurring"))
        .when(kind.is_in(["Fee", "SavingsPlanUpfrontFee"]))
        .then(pl.lit("One-Time"))
        .otherwise(pl.lit("Usage-Based")),
        "charge_description": text_or_null(frame, "line_item_line_item_description"),
        "pricing_category": pl.when(kind == "SavingsPlanCoveredUsage")
        .then(pl.lit("Committed"))
        .otherwise(
            text_or_null(frame, "pricing_term").replace_strict(PRICING_CATEGORY, default=None)
        ),
        "service_name": pl.coalesce(
            text_or_null(frame, "product_product_name"),
            text_or_null(frame, "line_item_product_code"),
        ),
        "region_id": pl.coalesce(
            text_or_null(frame, "product_region_code"), text_or_null(frame, "product_region")
        ),
        "resource_id": text_or_null(frame, "line_item_resource_id"),
        "sku_id": text_or_null(frame, "product_sku"),
        "billed_cost": pl.col("line_item_unblended_cost"),
        "effective_cost": effective_cost(frame),
        "list_cost": pl.col("pricing_public_on_demand_cost")
        if "pricing_public_on_demand_cost" in frame.columns
        else pl.lit(None),
        "consumed_quantity": pl.col("line_item_usage_amount")
        if "line_item_usage_amount" in frame.columns
        else pl.lit(None),
        "consumed_unit": text_or_null(frame, "pricing_unit"),
        "commitment_discount_id": pl.coalesce(sp_arn, ri_arn),
        "commitment_discount_type": pl.when(sp_arn.is_not_null())
        .then(pl.lit("Savings Plan"))
        .when(ri_arn.is_not_null())
        .then(pl.lit("Reserved Instance")),
        "billing_currency": pl.col("line_item_currency_code").cast(pl.String),
        "tags_raw": tags,
        "x_instance_type": instance,
        "x_gpu_count_raw": instance.str.to_lowercase()
        .str.strip_prefix("ml.")
        .replace_strict(AWS, default=None, return_dtype=pl.Int32)
        .cast(pl.String),
    }


def read_cur_file(path: Path, relative: str) -> Parsed:
    """One CUR file (legacy or 2.0) as FOCUS-shaped warehouse columns, with rejects.

    Raises:
        SourceError: the file cannot be read or lacks a mandatory CUR column.
    """
    raw = read_source(path, relative)
    names = cur_names(raw.columns)
    legacy = any("/" in c for c in names)
    written = {canonical: source for source, canonical in names.items()}
    expected = [written.get(c, MANDATORY[c] if legacy else c) for c in REQUIRED]
    require(raw, relative, expected, "Cost and Usage Report")
    parsed = parse_source(
        raw,
        {written[c]: k for c, k in KINDS.items() if c in written},
        [written[c] for c in REQUIRED],
    )
    frame = parsed.frame.rename({s: c for s, c in names.items() if s != c})
    frame, tags = _tags(frame)
    cur2, legacy_cur = CUR_VERSIONS
    version = cur2 if "line_item_unblended_cost" in raw.columns else legacy_cur
    return Parsed(focus_shaped(frame, _columns(frame, tags), version), parsed.rejects)


def manifest_parts(manifest: Path) -> list[str]:
    """File names a CUR manifest lists: `reportKeys` (legacy) or `dataFiles` (CUR 2.0)."""
    try:
        document: Any = json.loads(manifest.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{manifest}: not a readable CUR manifest ({exc}); re-export") from exc
    keys = document.get("reportKeys") or document.get("dataFiles") or []
    return [str(k).rsplit("/", 1)[-1] for k in keys]


def _manifests(folder: Path) -> list[Path]:
    """The manifests that describe a delivery folder: in it, or (CUR 2.0) in the matching
    `metadata/BILLING_PERIOD=…` folder beside `data/`."""
    found = sorted(folder.glob("*Manifest.json"))
    if folder.name.startswith("BILLING_PERIOD=") and folder.parent.name == "data":
        found += sorted((folder.parent.parent / "metadata" / folder.name).glob("*Manifest.json"))
    return found


def _assembly_manifest(folder: Path) -> tuple[Path, str] | None:
    """The period manifest above a legacy CUR assembly folder and the assembly it names."""
    for manifest in sorted(folder.parent.glob("*-Manifest.json")):
        try:
            current = json.loads(manifest.read_text()).get("assemblyId")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            continue
        if current:
            return manifest, str(current)
    return None


def _superseded(folder: Path) -> bool:
    """Whether a legacy CUR assembly folder is not the one its period's manifest names."""
    found = _assembly_manifest(folder)
    return found is not None and found[1] != folder.name


@register
class AwsCurConnector(NativeBilling):
    """AWS Cost and Usage Reports, legacy CUR and CUR 2.0."""

    type_name = "aws_cur"
    description = "AWS Cost and Usage Report, legacy or CUR 2.0 (CSV, CSV.gz, Parquet)"

    def __init__(self, config: ConnectorConfig, root: Path) -> None:
        super().__init__(config, root)
        self._split = SplitDeliveries()

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """Legacy `lineItem/...` or CUR 2.0 `line_item_...` columns."""
        if sample.has("lineitem/unblendedcost", "lineitem/lineitemtype"):
            return "AWS Cost and Usage Report (legacy CUR) columns"
        if sample.has("line_item_unblended_cost", "line_item_line_item_type"):
            return "AWS Cost and Usage Report (CUR 2.0) columns"
        return None

    def read_file(self, path: Path, relative: str) -> Parsed:
        """One CUR file as FOCUS-shaped warehouse columns; with split cost allocation data, the
        pods' rows and their instances' lines wait for the rest of the delivery (`held_back`)."""
        return self._split.read(path, read_cur_file(path, relative))

    def prepare_deliveries(
        self, members: Mapping[Path, list[Path]], whole: Mapping[Path, bool]
    ) -> None:
        """Which instance-hours of each delivery have pods (split cost allocation data)."""
        self._split.prepare(members, whole, self.relative, self.suffixes)

    def held_back(self, folder: Path) -> Iterator[Parsed]:
        """The delivery's instance lines split to their pods, once every part was read."""
        return self._split.held_back(folder)

    def input_files(self) -> list[Path]:
        """The files of the current deliveries: legacy CUR keeps superseded assemblies
        (`<period>/<assembly id>/`) beside the current one, which the period's manifest names
        by its `assemblyId`; the others are not read."""
        return [p for p in super().input_files() if not _superseded(p.parent)]

    def delivery_of(self, folder: Path, files: list[Path]) -> str:
        """A legacy assembly's deliveries are ordered by when its period's manifest was
        written (assembly ids are not in time order); other layouts as FOCUS's."""
        found = _assembly_manifest(folder)
        if found is None:
            return super().delivery_of(folder, files)
        written = datetime.fromtimestamp(found[0].stat().st_mtime, UTC)
        return f"{written:%Y-%m-%dT%H:%M:%S.%fZ} {folder.name}"

    def check_deliveries(self, members: Mapping[Path, list[Path]]) -> None:
        """A delivery whose manifest names a file that is not there is an error."""
        for folder, parts in members.items():
            present = {p.name for p in parts} | {p.name for p in folder.iterdir()}
            for manifest in _manifests(folder):
                missing = [name for name in manifest_parts(manifest) if name not in present]
                if missing:
                    raise SourceError(
                        f"{self.relative(manifest)}: the manifest lists {', '.join(missing)}, "
                        f"which {self.relative(folder)} does not hold; the delivery is "
                        "incomplete: copy the missing part(s) or wait for the export to finish"
                    )
