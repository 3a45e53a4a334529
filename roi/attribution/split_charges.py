"""roi's allocation as FOCUS 1.3 split charges: every billing line of a month, split into one
row per model (or idle or unallocated share) it was attributed to.

Attribution works on line groups (`ledger.py`); each group was taken whole by one rule (a
model's selector, the idle or the remainder stage) or claimed by a pool, which splits a
month's pool cost by the pool's shares. Here each line gets its group's targets: the whole line
for a rule that took the group, the pool's month shares for a pool. Summable figures (billed,
effective, list and contracted cost, quantities) are split so that the parts of every line add
up to it exactly, to the warehouse's last decimal; dimensions and unit prices (which do not
split) are copied; `AllocatedTags` keeps the line's tags and adds `roi-model`.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from roi import warehouse
from roi.attribution.engine import AttributionPlan, plan_attribution
from roi.attribution.ledger import month_column, month_sql, tag_keys, tag_values
from roi.config import AttributionSettings, ProjectConfig
from roi.errors import RoiError
from roi.loading.shares import split_lines
from roi.warehouse import Connection

SPLIT_AMOUNTS = ("billed_cost", "effective_cost", "list_cost", "contracted_cost")
SPLIT_QUANTITIES = ("consumed_quantity", "pricing_quantity")
GROUP_KEYS = (
    "month",
    "provider",
    "sub_account_id",
    "resource_id",
    "charge_category",
    "commitment_discount_status",
    "service_category",
    "service_name",
    "instance_type",
    "has_gpu",
    "currency",
    "load_id",
)


def _lines(con: Connection, settings: AttributionSettings, month: date) -> pl.DataFrame:
    """The month's billing lines with the keys attribution folded them by."""
    when = month_column(settings)
    where, params = month_sql(when, month)
    return warehouse.fetch_frame(
        con,
        f"""SELECT *, date_trunc('month', {when})::DATE AS month,
                   x_instance_type AS instance_type, coalesce(x_gpu_count, 0) > 0 AS has_gpu,
                   CASE WHEN tags_raw IS NULL AND tags IS NOT NULL THEN to_json(tags)::VARCHAR
                        ELSE tags_raw END AS tags_text,
                   billing_currency AS currency, _load_id AS load_id,
                   to_json(tags)::VARCHAR AS tags_json
            FROM cost_lines WHERE {where} ORDER BY source_file, source_row""",
        params,
    )


def _targets(plan: AttributionPlan) -> pl.DataFrame:
    """Per line group: each target (model, idle or unallocated), its share and its rule."""
    ledger = plan.ledger.with_columns(load_id=pl.col("load_ids").list.first())
    whole = ledger.filter(pl.col("model_id").is_not_null()).select(
        "group_id", target="model_id", rule_id="rule_id", share=pl.lit(1.0)
    )
    pooled = ledger.filter(pl.col("model_id").is_null() & pl.col("rule_id").is_not_null())
    parts = plan.allocated.group_by("month", "provider", "currency", "rule_id", "model_id").agg(
        pl.col("amount").sum().cast(pl.Float64), pl.col("billed_amount").sum().cast(pl.Float64)
    )
    totals = pl.col("amount").sum().over("month", "provider", "currency", "rule_id")
    billed = pl.col("billed_amount").sum().over("month", "provider", "currency", "rule_id")
    parts = parts.with_columns(
        share=pl.when(totals != 0)
        .then(pl.col("amount") / totals)
        .when(billed != 0)
        .then(pl.col("billed_amount") / billed)
        .otherwise(1.0 / pl.len().over("month", "provider", "currency", "rule_id"))
    ).filter(pl.col("share") != 0)
    shared = pooled.drop("model_id").join(parts, on=["month", "provider", "currency", "rule_id"])
    shared = shared.select("group_id", target="model_id", rule_id="rule_id", share="share")
    return pl.concat([whole, shared])


def _split(frame: pl.DataFrame) -> pl.DataFrame:
    """Each line's amounts split by its targets' shares, the parts adding up to the line."""
    return split_lines(
        frame, ["source_file", "source_row"], ["target"], "share", SPLIT_AMOUNTS, SPLIT_QUANTITIES
    )


def split_charges(con: Connection, project: ProjectConfig, month: date) -> pl.DataFrame:
    """The month's billing lines as split rows, one per line and target, with `target`,
    `rule_id` and `share` beside the line's own columns (attribution is planned afresh, from
    the project's rules, reading only).

    Raises:
        RoiError: a line is in no line group of the plan (the warehouse changed meanwhile).
    """
    settings = project.attribution
    plan = plan_attribution(con, project.models, settings, month, project.pools)
    lines = _lines(con, settings, month)
    values = tag_values(lines["tags_text"], tag_keys(project.models, project.pools, settings))
    ledger = plan.ledger.with_columns(load_id=pl.col("load_ids").list.first())
    on = [*GROUP_KEYS, *(c for c in values.columns if c != "tags_text")]
    # Groups that differ only in tag text the rules do not read have equal keys and were
    # treated alike: any of them gives the line its targets.
    groups = ledger.select("group_id", *on).unique(subset=on, keep="first")
    matched = lines.join(values, on="tags_text", how="left", nulls_equal=True).join(
        groups, on=on, how="left", nulls_equal=True
    )
    lost = matched.filter(pl.col("group_id").is_null())
    if lost.height:
        row = lost.row(0, named=True)
        raise RoiError(
            f"{row['source_file']} row {row['source_row']}: the line is in no attributed group; "
            "the warehouse changed while exporting: run the export again"
        )
    targets = _targets(plan).select("group_id", "target", "rule_id", "share")
    return _split(matched.join(targets, on="group_id", how="inner"))
