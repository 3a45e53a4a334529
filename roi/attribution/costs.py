"""Cost attribution: every cost line to exactly one model, `__unallocated__`, or (later) `__idle__`.

A line goes to a model by the model's selectors (tags, then resource-id patterns, then
sub-account). Models are tried in priority order (lower `priority` first, then model_id); a line
two models match is recorded in `attribution_conflicts` and goes to the first. A line nothing
matches is `__unallocated__`, never dropped, so per month the allocated amounts sum exactly
(DECIMAL) to the source total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl

from roi import warehouse
from roi.config import AttributionSettings, ModelConfig
from roi.portfolio import sync_portfolio
from roi.warehouse import Connection

UNALLOCATED = "__unallocated__"
IDLE = "__idle__"


@dataclass(frozen=True)
class AttributionResult:
    """Summary of one attribution run."""

    months: list[date]
    lines: int
    allocated_rows: int
    conflicts: int
    unallocated_amount: float


def glob_regex(pattern: str) -> str:
    """A resource-id glob (`*` any run, `?` one character) as an anchored regular expression."""
    out = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return f"^{out}$"


def _month_expr(basis: str) -> pl.Expr:
    col = "billing_period_start" if basis == "billing_period" else "charge_period_start"
    return pl.col(col).dt.convert_time_zone("UTC").dt.truncate("1mo").dt.date().alias("month")


def cost_type_expr() -> pl.Expr:
    """Classify a line: gpu, ai_service, cloud, commitment, commitment_unused, tax, credit, adjustment."""
    category = pl.col("charge_category")
    return (
        pl.when(category == "Tax").then(pl.lit("tax"))
        .when(category == "Credit").then(pl.lit("credit"))
        .when(category == "Adjustment").then(pl.lit("adjustment"))
        .when(category == "Purchase").then(pl.lit("commitment"))
        .when(pl.col("commitment_discount_status") == "Unused").then(pl.lit("commitment_unused"))
        .when(pl.col("x_gpu_count").fill_null(0) > 0).then(pl.lit("gpu"))
        .when(pl.col("service_category") == "AI and Machine Learning").then(pl.lit("ai_service"))
        .otherwise(pl.lit("cloud"))
        .alias("cost_type")
    )


def _tag_value(key: str) -> pl.Expr:
    return (
        pl.col("tags")
        .list.eval(pl.element().filter(pl.element().struct.field("key") == key))
        .list.first()
        .struct.field("value")
    )


def _selector_exprs(model: ModelConfig) -> list[tuple[str, pl.Expr]]:
    """(rule kind, boolean expression) pairs for one model, in selector priority order."""
    sel = model.selectors
    rules: list[tuple[str, pl.Expr]] = []
    if sel.tags:
        rules.append(("tag", pl.any_horizontal(
            [pl.col(f"_tag_{k}").is_in(list(v)).fill_null(False) for k, v in sel.tags.items()]
        )))
    if sel.resource_ids:
        rx = "|".join(f"(?:{glob_regex(p)})" for p in sel.resource_ids)
        rules.append(("resource", pl.col("resource_id").str.contains(rx).fill_null(False)))
    if sel.sub_accounts:
        rules.append(("sub_account", pl.col("sub_account_id").is_in(list(sel.sub_accounts)).fill_null(False)))
    return rules


def assign_models(lines: pl.DataFrame, models: tuple[ModelConfig, ...]) -> pl.DataFrame:
    """Add `model_id`, `rule_id`, `basis` and `matched_models` (every model that matched) to lines."""
    ordered = sorted(models, key=lambda m: (m.selectors.priority, m.model_id))
    keys = sorted({k for m in ordered for k in m.selectors.tags})
    frame = lines.with_columns([_tag_value(k).alias(f"_tag_{k}") for k in keys])
    rule_cols: list[pl.Expr] = []
    match_cols: list[pl.Expr] = []
    for i, model in enumerate(ordered):
        rules = _selector_exprs(model)
        if not rules:
            continue
        rule = pl.lit(None, pl.String)
        for kind, expr in reversed(rules):
            rule = pl.when(expr).then(pl.lit(f"{model.model_id}:{kind}")).otherwise(rule)
        rule_cols.append(rule.alias(f"_rule_{i}"))
        match_cols.append(pl.when(pl.col(f"_rule_{i}").is_not_null()).then(pl.lit(model.model_id)).alias(f"_m_{i}"))
    if not rule_cols:
        return frame.with_columns(
            model_id=pl.lit(UNALLOCATED), rule_id=pl.lit("unmatched"), basis=pl.lit("unallocated"),
            matched_models=pl.lit([], pl.List(pl.String)),
        )
    frame = frame.with_columns(rule_cols).with_columns(match_cols)
    rule_names = [c.meta.output_name() for c in rule_cols]
    match_names = [c.meta.output_name() for c in match_cols]
    frame = frame.with_columns(
        rule_id=pl.coalesce(rule_names).fill_null("unmatched"),
        matched_models=pl.concat_list(match_names).list.drop_nulls(),
    ).with_columns(
        model_id=pl.when(pl.col("rule_id") == "unmatched").then(pl.lit(UNALLOCATED))
        .otherwise(pl.col("rule_id").str.split(":").list.first()),
        basis=pl.when(pl.col("rule_id") == "unmatched").then(pl.lit("unallocated")).otherwise(pl.lit("direct")),
    )
    drop = [c for c in frame.columns if c.startswith(("_tag_", "_rule_", "_m_"))]
    return frame.drop(drop)


LINE_COLUMNS = (
    "billing_period_start, charge_period_start, provider, sub_account_id, resource_id, tags, "
    "charge_category, commitment_discount_status, service_category, x_gpu_count, "
    "effective_cost, billed_cost, billing_currency, source_file, source_row"
)


def attribute_costs(
    con: Connection,
    models: tuple[ModelConfig, ...],
    settings: AttributionSettings,
    month: date | None = None,
) -> AttributionResult:
    """Rebuild `allocated_costs` (all months, or one) from `cost_lines`, in one transaction."""
    lines = warehouse.fetch_frame(con, f"SELECT {LINE_COLUMNS} FROM cost_lines")
    lines = lines.with_columns(_month_expr(settings.month_basis), cost_type_expr())
    if month is not None:
        lines = lines.filter(pl.col("month") == month)
    assigned = assign_models(lines, models)
    now = datetime.now(UTC)
    allocated = (
        assigned.group_by("month", "model_id", "cost_type", "basis", "rule_id", "provider", "billing_currency")
        .agg(
            pl.col("effective_cost").sum().alias("amount"),
            pl.col("billed_cost").sum().alias("billed_amount"),
            pl.len().cast(pl.Int64).alias("line_count"),
        )
        .rename({"billing_currency": "currency"})
        .with_columns(attributed_at=pl.lit(now))
        .sort("month", "model_id", "cost_type", "rule_id", "provider")
    )
    conflicts = assigned.filter(pl.col("matched_models").list.len() > 1).select(
        "month", "source_file", "source_row", "resource_id", "matched_models",
        pl.col("model_id").alias("chosen_model"), pl.col("effective_cost").alias("amount"),
    )
    months = sorted(lines["month"].unique().to_list())
    with warehouse.transaction(con):
        sync_portfolio(con, models)
        if month is None:
            warehouse.execute(con, "DELETE FROM allocated_costs")
            warehouse.execute(con, "DELETE FROM attribution_conflicts")
        else:
            warehouse.execute(con, "DELETE FROM allocated_costs WHERE month = ?", [month])
            warehouse.execute(con, "DELETE FROM attribution_conflicts WHERE month = ?", [month])
        for name, frame in (("allocated_costs", allocated), ("attribution_conflicts", conflicts)):
            if frame.height:
                warehouse.register(con, "_new", frame)
                warehouse.execute(con, f"INSERT INTO {name} BY NAME SELECT * FROM _new")
                warehouse.unregister(con, "_new")
    unallocated = allocated.filter(pl.col("model_id") == UNALLOCATED)["amount"].sum()
    return AttributionResult(
        months=months, lines=lines.height, allocated_rows=allocated.height,
        conflicts=conflicts.height, unallocated_amount=float(unallocated or 0),
    )
