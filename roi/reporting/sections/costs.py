"""Costs: the month by model and cost type, by provider, the shared pools and how they were
split, and idle GPU with utilisation; the trend by model.

The pack's Costs sheet proves the month: the source total (the bills' effective cost), the
attributed total (a formula over the table: models, unallocated and idle) and their difference,
which must read 0.00. Unallocated and idle are their own rows, apart from the models, and idle
is the real figure attribution computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from roi import warehouse
from roi.attribution.ledger import month_column
from roi.attribution.pool_bases.gpu_hours import gpu_pool_rules
from roi.reporting.book import MONEY, MONEY0, PERCENT, Book, Column, Sheet, a1, column_range
from roi.reporting.charts import Charts, horizontal_bars, stacked_cost, top_models
from roi.reporting.data import ReportData, month_bounds, month_range
from roi.reporting.html import count, money, number, percent1, table
from roi.vocabulary import COST_TYPES, IDLE, IDLE_HELD, OTHER, UNALLOCATED

NAME = "costs"
TITLE = "Costs"
SHEET = "Costs"
IDLE_LINES = [IDLE, IDLE_HELD]


def sentinels(data: ReportData) -> tuple[str, ...]:
    """The lines shown beside the models: idle, held-but-not-busy (where a pool keeps that line
    apart) and unallocated."""
    held = any(
        p.basis == "gpu_hours_utilization" and p.idle_held == "separate" for p in data.project.pools
    )
    return (IDLE, IDLE_HELD, UNALLOCATED) if held else (IDLE, UNALLOCATED)


@dataclass(frozen=True)
class Figures:
    """The month's cost tables."""

    by_model: pl.DataFrame  # model_id, one column per cost type, total, previous
    cost_types: list[str]
    providers: pl.DataFrame
    pools: pl.DataFrame
    gpu: pl.DataFrame  # per GPU pool: GPU-hours held, busy, idle, idle cost
    trend: pl.DataFrame  # month, model_id, amount
    source_total: Decimal
    usage: Decimal


def read(data: ReportData) -> Figures:
    """Cost by model and type, providers, pool splits and GPU use for the month."""
    shown = [*data.model_ids, *sentinels(data)]
    # A report of some models still proves the month: the others are one row.
    fold = (
        pl.when(pl.col("model_id").is_in(shown)).then(pl.col("model_id")).otherwise(pl.lit(OTHER))
    )
    allocated = data.allocated.with_columns(model_id=fold)
    if data.options.models:
        shown.insert(len(data.model_ids), OTHER)
    month = allocated.filter(pl.col("month") == data.month)
    present = set(month["cost_type"])
    cost_types = [c for c in COST_TYPES if c in present] + sorted(present - set(COST_TYPES))
    wide = (
        month.group_by("model_id", "cost_type")
        .agg(pl.col("amount").sum())
        .pivot(on="cost_type", index="model_id", values="amount")
        if month.height
        else pl.DataFrame(schema={"model_id": pl.String})
    )
    usage = (
        warehouse.fetch_frame(
            data.con,
            "SELECT model_id, sum(amount) AS usage FROM usage_costs "
            "WHERE month = ? AND currency = ? "
            "GROUP BY 1",
            [data.month, data.currency],
        )
        .with_columns(model_id=fold)
        .group_by("model_id")
        .agg(pl.col("usage").sum())
    )
    previous = (
        allocated.filter(pl.col("month") == data.previous)
        .group_by("model_id")
        .agg(pl.col("amount").sum().alias("previous"))
    )
    base = pl.DataFrame({"model_id": shown})
    by_model = (
        base.join(wide, on="model_id", how="left")
        .join(usage, on="model_id", how="left")
        .join(previous, on="model_id", how="left")
    )
    for c in [*cost_types, "usage"]:
        if c not in by_model.columns:
            by_model = by_model.with_columns(pl.lit(Decimal(0)).alias(c))
    by_model = by_model.with_columns(
        pl.col(c).cast(pl.Float64).fill_null(0.0) for c in [*cost_types, "usage", "previous"]
    ).with_columns(total=pl.sum_horizontal([*cost_types, "usage"]))
    order = {m: i for i, m in enumerate(shown)}
    by_model = (
        by_model.with_columns(
            sentinel=pl.col("model_id").is_in(list(sentinels(data))),
            rank=pl.col("model_id").replace_strict(order, default=0),
        )
        .sort(["sentinel", "total", "rank"], descending=[False, True, False])
        .drop("sentinel", "rank")
    )
    providers = warehouse.fetch_frame(
        data.con,
        f"""SELECT provider, billing_account_id,
                  string_agg(DISTINCT invoice_id, ', ' ORDER BY invoice_id) AS invoices,
                  sum(billed_cost)::DOUBLE AS billed, sum(effective_cost)::DOUBLE AS effective,
                  count(*) AS lines
           FROM cost_lines WHERE {month_range(month_column(data.project.attribution))}
             AND billing_currency = ? GROUP BY ALL ORDER BY 1, 2""",
        [*month_bounds(data.month), data.currency],
    )
    pools = warehouse.fetch_frame(
        data.con,
        """SELECT b.rule_id, b.model_id, b.basis, b.unit, b.quantity, b.usage_quantity, b.share,
                  (SELECT sum(amount)::DOUBLE FROM allocated_costs a WHERE a.month = b.month
                     AND a.rule_id = b.rule_id AND a.model_id = b.model_id
                     AND a.currency = ?) AS amount
           FROM allocation_bases b WHERE b.month = ?
           ORDER BY b.rule_id, b.share DESC, b.model_id""",
        [data.currency, data.month],
    )
    gpu_rules = gpu_pool_rules(data.project.pools)
    gpu = (
        pools.filter(pl.col("rule_id").is_in(gpu_rules))
        .group_by("rule_id")
        .agg(
            held=pl.col("quantity").filter(~pl.col("model_id").is_in(IDLE_LINES)).sum(),
            busy=pl.col("usage_quantity").filter(~pl.col("model_id").is_in(IDLE_LINES)).sum(),
            idle_hours=pl.col("quantity").filter(pl.col("model_id") == IDLE).sum(),
            idle_cost=pl.col("amount").filter(pl.col("model_id") == IDLE).sum(),
            held_idle_hours=pl.col("quantity").filter(pl.col("model_id") == IDLE_HELD).sum(),
            held_idle_cost=pl.col("amount").filter(pl.col("model_id") == IDLE_HELD).sum(),
            total_cost=pl.col("amount").sum(),
        )
        .with_columns(
            capacity=pl.col("held") + pl.col("idle_hours"),
        )
        .with_columns(
            held_share=pl.col("held") / pl.col("capacity"),
            busy_share=pl.col("busy") / pl.col("capacity"),
        )
    )
    trend = allocated.group_by("month", "model_id").agg(pl.col("amount").sum().cast(pl.Float64))
    t = data.totals
    return Figures(by_model, cost_types, providers, pools, gpu, trend, t.source_total, t.usage)


def html(f: Figures, data: ReportData, charts: Charts) -> str:
    """Tables and charts of the month's cost."""
    cur = data.currency
    keep = top_models(f.trend, "amount", data.options.top_models, sentinels(data))
    trend = charts.inline(
        "cost_trend",
        stacked_cost(
            f.trend,
            keep,
            sentinels(data),
            data.colours,
            data.labels,
            cur,
            f"Cost by month: top {len(keep)} models, other models, idle and unallocated",
        ),
        "Monthly cost stacked by model",
    )
    month = f.by_model.filter(pl.col("total") != 0)
    top = month.filter(~pl.col("model_id").is_in([*sentinels(data), OTHER])).head(
        data.options.top_models
    )
    rest = month.filter(~pl.col("model_id").is_in([*top["model_id"], *sentinels(data)]))
    bars = [
        {"label": data.label(r["model_id"]), "key": r["model_id"], "amount": r["total"]}
        for r in top.iter_rows(named=True)
    ]
    if rest.height:
        bars.append(
            {
                "label": f"Other models ({rest.height})",
                "key": OTHER,
                "amount": float(rest["total"].sum()),
            }
        )
    bars += [
        {"label": data.label(r["model_id"]), "key": r["model_id"], "amount": r["total"]}
        for r in month.filter(pl.col("model_id").is_in(list(sentinels(data)))).iter_rows(named=True)
    ]
    by_model_chart = charts.inline(
        "cost_by_model",
        horizontal_bars(
            bars,
            "amount",
            data.colours,
            cur,
            f"Cost by model, {data.month:%B %Y}: top {top.height}, other models, idle and "
            "unallocated",
        ),
        "This month's cost per model",
    )
    shown_types = [c for c in [*f.cost_types, "usage"] if (f.by_model[c] != 0).any()]
    rows = f.by_model.with_columns(
        label=pl.col("model_id").replace_strict(data.labels, default=pl.col("model_id")),
        change=pl.col("total") - pl.col("previous"),
    )
    columns = [
        ("label", "Model", None),
        *[(c, c.replace("_", " "), money) for c in shown_types],
        ("total", f"Total ({cur})", money),
        ("previous", "Previous month", money),
        ("change", "Change", money),
    ]
    totals = {c: money(rows[c].sum()) for c in [*shown_types, "total", "previous", "change"]}
    totals["label"] = "Total"
    pools = f.pools.with_columns(
        model=pl.col("model_id").replace_strict(data.labels, default=pl.col("model_id")),
        pool=pl.col("rule_id").str.replace("^pool:", ""),
    )
    gpu = f.gpu.with_columns(pool=pl.col("rule_id").str.replace("^pool:", ""))
    return (
        trend
        + by_model_chart
        + "<h3>By model and cost type</h3>"
        + table(rows, columns, totals)
        + '<p class="note">Source total (the bills\' effective cost): '
        + f"{money(f.source_total, cur)}; "
        f"priced LLM usage with no bill: {money(f.usage, cur)}.</p>"
        + "<h3>By provider</h3>"
        + table(
            f.providers,
            [
                ("provider", "Provider", None),
                ("billing_account_id", "Billing account", None),
                ("invoices", "Invoices", None),
                ("billed", f"Billed ({cur})", money),
                ("effective", f"Effective ({cur})", money),
                ("lines", "Lines", count),
            ],
        )
        + "<h3>Shared pools and how they were split</h3>"
        + table(
            pools,
            [
                ("pool", "Pool", None),
                ("model", "Model", None),
                ("basis", "Split by", None),
                ("quantity", "Quantity", number),
                ("unit", "Unit", None),
                ("share", "Share", percent1),
                ("amount", f"Cost ({cur})", money),
            ],
        )
        + "<h3>Idle GPU and utilisation</h3>"
        + '<p class="note">GPU-hours of each GPU pool: held by workloads, busy (utilisation-'
        "weighted) and idle (no workload held them), and what the idle capacity cost; in a pool "
        "split by busy GPU-hours, what was held but not busy is a line of its own.</p>"
        + table(gpu, _gpu_columns(f, money, number, percent1, cur))
    )


def _gpu_columns(
    f: Figures, money: Any, number: Any, percent: Any, cur: str
) -> list[tuple[str, str, Any]]:
    """The GPU table's columns; the held-but-not-busy ones where a pool has that line."""
    held_idle = f.gpu.height > 0 and bool(f.gpu["held_idle_hours"].sum())
    return [
        ("pool", "Pool", None),
        ("capacity", "GPU-hours", number),
        ("held_share", "Held", percent),
        ("busy_share", "Busy", percent),
        ("idle_hours", "Idle GPU-hours", number),
        ("idle_cost", f"Idle cost ({cur})", money),
        *(
            [
                ("held_idle_hours", "Held, not busy GPU-hours", number),
                ("held_idle_cost", f"Held, not busy cost ({cur})", money),
            ]
            if held_idle
            else []
        ),
        ("total_cost", f"Pool cost ({cur})", money),
    ]


def excel(f: Figures, data: ReportData, book: Book) -> None:
    """The Costs sheet: by model and type with row and column totals, the proof that the month
    reconciles, providers, pools, GPU use and the cost trend with its native chart."""
    sheet = book.sheets[SHEET]
    cur = data.currency
    sheet.title(0, f"Costs, {data.month:%B %Y}", f"Effective (amortized) cost in {cur}.")
    types = [*f.cost_types, "usage"]
    columns = [
        Column("Model id", "model_id"),
        Column("Model", "label"),
        *[Column(t.replace("_", " ").capitalize(), t, MONEY) for t in types],
        Column(f"Total ({cur})", "total", MONEY),
        Column("Previous month", "previous", MONEY),
        Column("Change", "change", MONEY),
    ]
    rows = [
        {
            **r,
            "label": data.label(r["model_id"]),
            "total": sum(r[t] for t in types),
            "change": sum(r[t] for t in types) - r["previous"],
        }
        for r in f.by_model.iter_rows(named=True)
    ]
    refs = sheet.table(3, 0, "CostByModel", columns, rows)
    col = {k: v[0] for k, v in refs.items()}
    for i, row in enumerate(rows):
        r = 4 + i
        first, last = a1(r, col[types[0]]), a1(r, col[types[-1]])
        total = sum(row[t] for t in types)
        sheet.formula(r, col["total"], f"=SUM({first}:{last})", total)
        sheet.formula(
            r,
            col["change"],
            f"={a1(r, col['total'])}-{a1(r, col['previous'])}",
            total - row["previous"],
        )
        if row["model_id"] == UNALLOCATED:
            book.define("costs_unallocated", sheet, r, col["total"])
        if row["model_id"] == IDLE:
            book.define("costs_idle", sheet, r, col["total"])
    end = 4 + len(rows)
    sheet.text(end, col["label"], "Total", "bold")
    for key in [*types, "total", "previous", "change"]:
        amount = sum(r[key] for r in rows)
        sheet.formula(
            end, col[key], f"=SUM({column_range(sheet, refs[key])})", amount, f"bold:{MONEY}"
        )
    book.define("costs_total", sheet, end, col["total"])
    line = end + 2
    proof = [
        ("Source total: effective cost of the bills", None, float(f.source_total)),
        ("Priced LLM usage with no bill (usage_costs)", None, float(f.usage)),
        (
            "ML spend: source total + priced usage",
            "=costs_source+costs_usage",
            float(f.source_total + f.usage),
        ),
        (
            "Attributed: models + unallocated + idle + usage (the table's total)",
            "=costs_total",
            float(sum(r["total"] for r in rows)),
        ),
        (
            "Difference (must be 0.00)",
            "=ROUND(costs_attributed-costs_spend,2)",
            round(float(sum(r["total"] for r in rows)) - float(f.source_total + f.usage), 2),
        ),
    ]
    for i, ((label, formula, value), name) in enumerate(
        zip(
            proof,
            ("costs_source", "costs_usage", "costs_spend", "costs_attributed", "costs_difference"),
            strict=True,
        ),
        line,
    ):
        sheet.text(i, 0, label, "bold" if name == "costs_difference" else None)
        if formula:
            sheet.formula(i, 1, formula, value)
        else:
            sheet.number(i, 1, value)
        book.define(name, sheet, i, 1)
    line += len(proof) + 1
    sheet.text(line, 0, "By provider", "bold")
    sheet.table(
        line + 1,
        0,
        "Providers",
        [
            Column("Provider", "provider"),
            Column("Billing account", "billing_account_id"),
            Column("Invoices", "invoices"),
            Column(f"Billed ({cur})", "billed", MONEY),
            Column(f"Effective ({cur})", "effective", MONEY),
            Column("Lines", "lines", MONEY0),
        ],
        f.providers.to_dicts(),
    )
    line += f.providers.height + 3
    sheet.text(line, 0, "Shared pools and how they were split", "bold")
    pools = [
        {**r, "pool": r["rule_id"].removeprefix("pool:"), "model": data.label(r["model_id"])}
        for r in f.pools.iter_rows(named=True)
    ]
    sheet.table(
        line + 1,
        0,
        "PoolSplits",
        [
            Column("Pool", "pool"),
            Column("Model", "model"),
            Column("Split by", "basis"),
            Column("Quantity", "quantity", "#,##0.00"),
            Column("Unit", "unit"),
            Column("Share", "share", PERCENT),
            Column(f"Cost ({cur})", "amount", MONEY),
        ],
        pools,
    )
    line += len(pools) + 3
    sheet.text(line, 0, "Idle GPU and utilisation", "bold")
    gpu = [{**r, "pool": r["rule_id"].removeprefix("pool:")} for r in f.gpu.iter_rows(named=True)]
    sheet.table(
        line + 1,
        0,
        "GpuUse",
        [
            Column("Pool", "pool"),
            Column("GPU-hours", "capacity", "#,##0.0"),
            Column("Held", "held_share", PERCENT),
            Column("Busy", "busy_share", PERCENT),
            Column("Idle GPU-hours", "idle_hours", "#,##0.0"),
            Column(f"Idle cost ({cur})", "idle_cost", MONEY),
            Column("Held, not busy GPU-hours", "held_idle_hours", "#,##0.0"),
            Column(f"Held, not busy cost ({cur})", "held_idle_cost", MONEY),
            Column(f"Pool cost ({cur})", "total_cost", MONEY),
        ],
        gpu,
    )
    line += len(gpu) + 3
    _trend(f, data, book, sheet, line)
    sheet.ws.freeze_panes(4, 2)


def _trend(f: Figures, data: ReportData, book: Book, sheet: Sheet, line: int) -> None:
    keep = top_models(f.trend, "amount", data.options.top_models, sentinels(data))
    series = [*keep, OTHER, *sentinels(data)]
    folded = (
        f.trend.with_columns(
            series=pl.when(pl.col("model_id").is_in([*keep, *sentinels(data)]))
            .then(pl.col("model_id"))
            .otherwise(pl.lit(OTHER))
        )
        .group_by("series", "month")
        .agg(pl.col("amount").sum())
    )
    lookup = {(r["series"], r["month"]): r["amount"] for r in folded.iter_rows(named=True)}
    series = [s for s in series if any((s, m) in lookup for m in data.window)]
    sheet.text(line, 0, "Cost by month", "bold")
    sheet.text(line + 1, 0, "Series")
    for j, month in enumerate(data.window, 1):
        sheet.number(line + 1, j, month, "mmm yyyy")
    for i, s in enumerate(series, line + 2):
        sheet.text(i, 0, data.label(s))
        for j, month in enumerate(data.window, 1):
            sheet.number(i, j, lookup.get((s, month), 0.0), MONEY0)
    chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    for i, s in enumerate(series, line + 2):
        chart.add_series(
            {
                "name": [SHEET, i, 0],
                "categories": [SHEET, line + 1, 1, line + 1, len(data.window)],
                "values": [SHEET, i, 1, i, len(data.window)],
                "fill": {"color": data.colours.get(s, "#777777")},
                "gap": 60,
            }
        )
    chart.set_title({"name": "Cost by month"})
    chart.set_y_axis({"num_format": "#,##0", "name": data.currency})
    chart.set_x_axis(
        {"date_axis": True, "num_format": "mmm yy", "major_unit": 1, "major_unit_type": "months"}
    )
    chart.set_legend({"position": "right"})
    chart.set_size({"width": 820, "height": 360})
    sheet.ws.insert_chart(line + len(series) + 3, 0, chart)
