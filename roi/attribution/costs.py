"""Cost attribution: every cost line to exactly one model, or `__unallocated__`.

A line goes to a model by the model's selectors (tags, then resource-id patterns, then
sub-account). Models are tried in priority order (lower `priority` first, then model_id); a line
two models match is recorded in `attribution_conflicts` and goes to the first. A line nothing
matches is `__unallocated__`, never dropped, so per month the allocated amounts sum exactly
(DECIMAL) to the source total.

Scale: DuckDB first folds `cost_lines` into one row per distinct combination of the columns the
selectors read (month, provider, sub-account, resource, selector tag values, cost type) with
exact DECIMAL sums; Polars then matches models on those few rows. 100M lines become a few
hundred thousand groups, so matching never touches every line.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl

from roi import warehouse
from roi.config import PRIORITY_RANGE, AttributionSettings, ModelConfig
from roi.portfolio import sync_portfolio
from roi.progress import SILENT, Progress
from roi.warehouse import Connection

UNALLOCATED = "__unallocated__"
IDLE = "__idle__"
UNMATCHED_RULE = "unmatched"


@dataclass(frozen=True)
class AttributionResult:
    """Summary of one attribution run."""

    attribution_id: str
    months: list[date]
    lines: int
    allocated_rows: int
    conflicts: int
    unallocated_amount: float


def glob_regex(pattern: str) -> str:
    """A resource-id glob (`*` any run, `?` one character) as an anchored regular expression."""
    out = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return f"^{out}$"


def month_column(settings: AttributionSettings) -> str:
    """The cost_lines timestamp whose month a line is reported in."""
    if settings.month_basis == "billing_period":
        return "billing_period_start"
    return "charge_period_start"


def cost_type_expr() -> pl.Expr:
    """Classify a line group: gpu, ai_service, cloud, commitment, commitment_unused, tax, credit…"""
    category = pl.col("charge_category")
    return (
        pl.when(category == "Tax")
        .then(pl.lit("tax"))
        .when(category == "Credit")
        .then(pl.lit("credit"))
        .when(category == "Adjustment")
        .then(pl.lit("adjustment"))
        .when(category == "Purchase")
        .then(pl.lit("commitment"))
        .when(pl.col("commitment_discount_status") == "Unused")
        .then(pl.lit("commitment_unused"))
        .when(pl.col("has_gpu"))
        .then(pl.lit("gpu"))
        .when(pl.col("service_category") == "AI and Machine Learning")
        .then(pl.lit("ai_service"))
        .otherwise(pl.lit("cloud"))
        .alias("cost_type")
    )


def tag_column(key: str) -> str:
    """The working column holding one selector tag key's value (distinct for distinct keys)."""
    return "_tag_" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


# Selector kinds in the order they win: a tag names its model explicitly, a resource pattern or a
# sub-account only implies it.
SELECTOR_KINDS = ("tag", "resource", "sub_account")


def _selector_exprs(model: ModelConfig) -> list[tuple[str, pl.Expr]]:
    """(selector kind, boolean expression) pairs for one model, strongest kind first."""
    sel = model.selectors
    rules: list[tuple[str, pl.Expr]] = []
    if sel.tags:
        rules.append(
            (
                "tag",
                pl.any_horizontal(
                    pl.col(tag_column(k))
                    .is_in([v.strip().lower() for v in values])
                    .fill_null(False)
                    for k, values in sel.tags.items()
                ),
            )
        )
    if sel.resource_ids:
        rx = "|".join(f"(?:{glob_regex(p)})" for p in sel.resource_ids)
        rules.append(("resource", pl.col("resource_id").str.contains(rx).fill_null(False)))
    if sel.sub_accounts:
        accounts = list(sel.sub_accounts)
        rules.append(("sub_account", pl.col("sub_account_id").is_in(accounts).fill_null(False)))
    return rules


def assign_models(lines: pl.DataFrame, models: tuple[ModelConfig, ...]) -> pl.DataFrame:
    """Add `model_id`, `rule_id`, `basis` and `matched_models` (every model that matched).

    `lines` carries `resource_id`, `sub_account_id` and one `tag_column(key)` column
    (lower-cased value) per tag key the selectors use. When several models match, the strongest
    selector kind wins (tag, then resource, then sub-account), then the lower model `priority`,
    then the model id; every model that matched is kept in `matched_models` for the conflict
    report.
    """
    candidates: list[pl.Expr] = []
    for model in models:
        candidate: pl.Expr = pl.lit(None, pl.String)
        for kind, expr in reversed(_selector_exprs(model)):
            rank = SELECTOR_KINDS.index(kind)
            # Sortable text: config keeps priorities in PRIORITY_RANGE and `|` out of model ids.
            priority = model.selectors.priority - PRIORITY_RANGE[0]
            key = f"{rank}|{priority:08d}|{model.model_id}|{kind}"
            candidate = pl.when(expr).then(pl.lit(key)).otherwise(candidate)
        candidates.append(candidate)
    if not candidates:
        return lines.with_columns(
            model_id=pl.lit(UNALLOCATED),
            rule_id=pl.lit(UNMATCHED_RULE),
            basis=pl.lit("unallocated"),
            matched_models=pl.lit([], pl.List(pl.String)),
        )
    matches = pl.concat_list(candidates).list.drop_nulls().list.sort()
    frame = lines.with_columns(_matches=matches)
    best = pl.col("_matches").list.first().str.split("|")
    return frame.with_columns(
        model_id=best.list.get(2, null_on_oob=True).fill_null(UNALLOCATED),
        rule_id=pl.when(pl.col("_matches").list.len() > 0)
        .then(
            pl.concat_str(
                [best.list.get(2, null_on_oob=True), best.list.get(3, null_on_oob=True)],
                separator=":",
            )
        )
        .otherwise(pl.lit(UNMATCHED_RULE)),
        basis=pl.when(pl.col("_matches").list.len() > 0)
        .then(pl.lit("direct"))
        .otherwise(pl.lit("unallocated")),
        matched_models=pl.col("_matches").list.eval(pl.element().str.split("|").list.get(2)),
    ).drop("_matches")


OUTPUT_TABLES = ("allocated_costs", "attribution_conflicts", "unallocated_costs")
NOT_A_RESOURCE = ("Tax", "Credit", "Adjustment", "Purchase")


def unallocated_detail(assigned: pl.DataFrame, tag_keys: list[str]) -> pl.DataFrame:
    """Unallocated cost per month, resource and reason: the worklist for tagging."""
    tagged_for_model = (
        pl.any_horizontal(pl.col(tag_column(k)).is_not_null() for k in tag_keys)
        if tag_keys
        else pl.lit(False)
    )
    reason = (
        pl.when(pl.col("charge_category").is_in(NOT_A_RESOURCE))
        .then(
            pl.lit("not a resource charge (")
            + pl.col("charge_category").str.to_lowercase()
            + pl.lit(")")
        )
        .when(pl.col("commitment_discount_status") == "Unused")
        .then(pl.lit("unused commitment"))
        .when(tagged_for_model)
        .then(pl.lit("model tag value matches no model"))
        .when(pl.col("untagged"))
        .then(pl.lit("untagged"))
        .otherwise(pl.lit("tagged, but no model selector matches"))
    )
    return (
        assigned.filter(pl.col("model_id") == UNALLOCATED)
        .with_columns(reason=reason)
        .group_by(
            "month", "provider", "service_name", "resource_id", "cost_type", "reason", "currency"
        )
        .agg(pl.col("amount").sum(), pl.col("line_count").sum().cast(pl.Int64))
    )


def line_groups(
    con: Connection, tag_keys: list[str], settings: AttributionSettings, month: date | None
) -> pl.DataFrame:
    """`cost_lines` folded to one row per combination of the columns attribution reads."""
    when = month_column(settings)
    tags = "".join(f", lower(trim(tags[?])) AS {tag_column(k)}" for k in tag_keys)
    where = f"WHERE date_trunc('month', {when})::DATE = ?" if month else ""
    params: list[object] = [*tag_keys, *([month] if month else [])]
    return warehouse.fetch_frame(
        con,
        f"""SELECT date_trunc('month', {when})::DATE AS month, provider, sub_account_id,
               resource_id{tags}, charge_category, commitment_discount_status,
               service_category, service_name, coalesce(x_gpu_count, 0) > 0 AS has_gpu,
               coalesce(cardinality(tags), 0) = 0 AS untagged,
               billing_currency AS currency,
               sum(effective_cost) AS amount, sum(billed_cost) AS billed_amount,
               count(*) AS line_count, list(DISTINCT _load_id) AS load_ids
            FROM cost_lines {where}
            GROUP BY ALL""",
        params,
    )


@dataclass(frozen=True)
class AttributionPlan:
    """Attribution tables computed from the warehouse, not yet written."""

    attribution_id: str
    started: datetime
    month: date | None
    models: tuple[ModelConfig, ...]
    allocated: pl.DataFrame
    conflicts: pl.DataFrame
    unallocated: pl.DataFrame
    months: list[date]
    load_ids: list[str]
    lines: int


def plan_attribution(
    con: Connection,
    models: tuple[ModelConfig, ...],
    settings: AttributionSettings,
    month: date | None = None,
) -> AttributionPlan:
    """Compute `allocated_costs` and its detail tables (all months, or one); reads only."""
    started = datetime.now(UTC)
    attribution_id = started.strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]
    tag_keys = sorted({k for m in models for k in m.selectors.tags})
    groups = line_groups(con, tag_keys, settings, month).with_columns(cost_type_expr())
    assigned = assign_models(groups, models)
    allocated = (
        assigned.group_by(
            "month", "model_id", "cost_type", "basis", "rule_id", "provider", "currency"
        )
        .agg(
            pl.col("amount").sum(),
            pl.col("billed_amount").sum(),
            pl.col("line_count").sum().cast(pl.Int64),
            pl.col("load_ids").explode().drop_nulls().unique().sort(),
        )
        .with_columns(attribution_id=pl.lit(attribution_id))
        .sort("month", "model_id", "cost_type", "rule_id", "provider")
    )
    conflicts = (
        assigned.filter(pl.col("matched_models").list.len() > 1)
        .group_by("month", "provider", "resource_id", "matched_models", "model_id")
        .agg(pl.col("amount").sum(), pl.col("line_count").sum().cast(pl.Int64))
        .rename({"model_id": "chosen_model"})
        .with_columns(attribution_id=pl.lit(attribution_id))
    )
    unallocated_rows = unallocated_detail(assigned, tag_keys).with_columns(
        attribution_id=pl.lit(attribution_id)
    )
    return AttributionPlan(
        attribution_id=attribution_id,
        started=started,
        month=month,
        models=models,
        allocated=allocated,
        conflicts=conflicts,
        unallocated=unallocated_rows,
        months=sorted(groups["month"].unique().to_list()),
        load_ids=sorted(set(assigned["load_ids"].explode().drop_nulls().to_list())),
        lines=int(groups["line_count"].sum() or 0),
    )


def write_attribution(
    con: Connection, plan: AttributionPlan, progress: Progress = SILENT
) -> AttributionResult:
    """Replace the attribution tables (all months, or the plan's month) in one transaction."""
    with warehouse.transaction(con):
        sync_portfolio(con, plan.models)
        for table in OUTPUT_TABLES:
            if plan.month is None:
                warehouse.execute(con, f"DELETE FROM {table}")
            else:
                warehouse.execute(con, f"DELETE FROM {table} WHERE month = ?", [plan.month])
        outputs = (plan.allocated, plan.conflicts, plan.unallocated)
        for name, frame in zip(OUTPUT_TABLES, outputs, strict=True):
            if frame.height:
                with warehouse.registered(con, "_new_rows", frame):
                    warehouse.execute(con, f"INSERT INTO {name} BY NAME SELECT * FROM _new_rows")
        warehouse.execute(
            con,
            "INSERT INTO _attributions VALUES (?, ?, ?, ?, ?, ?)",
            [
                plan.attribution_id,
                plan.started,
                datetime.now(UTC),
                json.dumps([m.isoformat() for m in plan.months]),
                plan.lines,
                json.dumps(plan.load_ids),
            ],
        )
    unallocated = plan.allocated.filter(pl.col("model_id") == UNALLOCATED)["amount"].sum()
    progress.info(
        f"attribution {plan.attribution_id}: {plan.lines:,} cost line(s) in "
        f"{len(plan.months)} month(s) → {plan.allocated.height} allocated row(s), "
        f"{plan.conflicts.height} conflict(s)"
    )
    return AttributionResult(
        attribution_id=plan.attribution_id,
        months=plan.months,
        lines=plan.lines,
        allocated_rows=plan.allocated.height,
        conflicts=plan.conflicts.height,
        unallocated_amount=float(unallocated or 0),
    )


def attribute_costs(
    con: Connection,
    models: tuple[ModelConfig, ...],
    settings: AttributionSettings,
    month: date | None = None,
    progress: Progress = SILENT,
) -> AttributionResult:
    """Rebuild `allocated_costs` (all months, or one) from `cost_lines` on one connection."""
    return write_attribution(con, plan_attribution(con, models, settings, month), progress)
