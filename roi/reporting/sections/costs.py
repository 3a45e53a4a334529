"""Costs: the month by model and cost type, by provider, the shared pools and how they were
split, and idle GPU with utilisation; the trend by model.

The pack's Costs sheet proves the month: the source total (the bills' effective cost), the
attributed total (a formula over the table: models, unallocated and idle) and their difference,
which must read 0.00. Unallocated and idle are their own rows, apart from the models, and idle
is the real figure attribution computed.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from roi.reporting.book import Book, Sheet, a1, column_range
from roi.reporting.charts import Charts, horizontal_bars, stacked_cost, top_models
from roi.reporting.columns import Column
from roi.reporting.data import ReportData
from roi.reporting.html import table
from roi.reporting.numbers import MONEY, MONEY0, MONTH, money
from roi.reporting.sections import Section, register
from roi.reporting.sections._costs_figures import Figures, read_costs, sentinels
from roi.vocabulary import IDLE, OTHER, UNALLOCATED

GPU_NOTE = (
    '<p class="note">GPU-hours of each GPU pool: held by workloads, busy (utilisation-'
    "weighted) and idle (no workload held them), and what the idle capacity cost; in a pool "
    "split by busy GPU-hours, what was held but not busy is a line of its own.</p>"
)


NO_BILLS = "No billing lines this month: load the month's bills with roi connect or roi load."
NO_POOLS = (
    "No shared pools: define a pool in pools/*.toml (a GPU cluster, an ML platform) to split "
    "shared cost between models."
)
NO_GPU = (
    "No GPU data: connect DCGM or OpenCost with roi connect, and a GPU pool in pools/*.toml, "
    "to see GPU-hours held, busy and idle."
)


def _by_model_columns(types: list[str], cur: str) -> list[Column]:
    """Cost by model and cost type (priced usage as one more type)."""
    return [
        Column("model_id", "Model id", only="excel"),
        Column("label", "Model"),
        *[
            Column(t, t.replace("_", " "), "money", excel_header=t.replace("_", " ").capitalize())
            for t in types
        ],
        Column("total", f"Total ({cur})", "money"),
        Column("previous", "Previous month", "money"),
        Column("change", "Change", "money"),
    ]


def _provider_columns(cur: str) -> list[Column]:
    return [
        Column("provider", "Provider"),
        Column("billing_account_id", "Billing account"),
        Column("invoices", "Invoices"),
        Column("billed", f"Billed ({cur})", "money"),
        Column("effective", f"Effective ({cur})", "money"),
        Column("lines", "Lines", "count"),
    ]


def _pool_columns(cur: str) -> list[Column]:
    return [
        Column("pool", "Pool"),
        Column("model", "Model"),
        Column("basis", "Split by"),
        Column("quantity", "Quantity", "quantity"),
        Column("unit", "Unit"),
        Column("share", "Share", "percent"),
        Column("amount", f"Cost ({cur})", "money"),
    ]


def _gpu_columns(cur: str, held_idle: bool) -> list[Column]:
    """GPU use per pool; the held-but-not-busy columns where `held_idle`."""
    return [
        Column("pool", "Pool"),
        Column("capacity", "GPU-hours", "hours"),
        Column("held_share", "Held", "percent"),
        Column("busy_share", "Busy", "percent"),
        Column("idle_hours", "Idle GPU-hours", "hours"),
        Column("idle_cost", f"Idle cost ({cur})", "money"),
        *(
            [
                Column("held_idle_hours", "Held, not busy GPU-hours", "hours"),
                Column("held_idle_cost", f"Held, not busy cost ({cur})", "money"),
            ]
            if held_idle
            else []
        ),
        Column("total_cost", f"Pool cost ({cur})", "money"),
    ]


def _charts(f: Figures, data: ReportData, charts: Charts) -> str:
    """The cost trend stacked by model, and this month's cost per model as bars."""
    cur, lines = data.currency, sentinels(data)
    keep = top_models(f.trend, "amount", data.options.top_models, lines)
    trend = charts.inline(
        "cost_trend",
        stacked_cost(
            f.trend,
            keep,
            lines,
            data.colours,
            data.labels,
            cur,
            f"Cost by month: top {len(keep)} models, other models, idle and unallocated",
        ),
        "Monthly cost stacked by model",
    )
    month = f.by_model.filter(pl.col("total") != 0)
    top = month.filter(~pl.col("model_id").is_in([*lines, OTHER])).head(data.options.top_models)
    rest = month.filter(~pl.col("model_id").is_in([*top["model_id"], *lines]))
    bars = [
        {"label": data.label(r["model_id"]), "key": r["model_id"], "amount": r["total"]}
        for r in top.iter_rows(named=True)
    ]
    if rest.height:
        other = {"label": f"Other models ({rest.height})", "key": OTHER}
        bars.append({**other, "amount": float(rest["total"].sum())})
    bars += [
        {"label": data.label(r["model_id"]), "key": r["model_id"], "amount": r["total"]}
        for r in month.filter(pl.col("model_id").is_in(list(lines))).iter_rows(named=True)
    ]
    by_model = charts.inline(
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
    return trend + by_model


@register
class Costs(Section[Figures]):
    """The month's cost, where it came from and how shared cost was split."""

    name = "costs"
    title = "Costs"
    sheet = "Costs"
    order = 30

    def read(self, data: ReportData) -> Figures:
        """Cost by model and type, providers, pool splits and GPU use for the month."""
        return read_costs(data)

    def html(self, figures: Figures, data: ReportData, charts: Charts) -> str:
        """Tables and charts of the month's cost."""
        f, cur = figures, data.currency
        shown_types = [c for c in [*f.cost_types, "usage"] if (f.by_model[c] != 0).any()]
        # A line beside the models (idle, unallocated) with nothing in either month is no news.
        nothing = (
            pl.col("model_id").is_in(list(sentinels(data)))
            & (pl.col("total") == 0)
            & (pl.col("previous") == 0)
        )
        rows = f.by_model.filter(~nothing).with_columns(
            label=pl.col("model_id").replace_strict(data.labels, default=pl.col("model_id")),
            change=pl.col("total") - pl.col("previous"),
        )
        totals = {c: money(rows[c].sum()) for c in [*shown_types, "total", "previous", "change"]}
        totals["label"] = "Total"
        pools = f.pools.with_columns(
            model=pl.col("model_id").replace_strict(data.labels, default=pl.col("model_id")),
            pool=pl.col("rule_id").str.replace("^pool:", ""),
        )
        gpu = f.gpu.with_columns(pool=pl.col("rule_id").str.replace("^pool:", ""))
        held_idle = f.gpu.height > 0 and bool(f.gpu["held_idle_hours"].sum())
        return (
            _charts(f, data, charts)
            + "<h3>By model and cost type</h3>"
            + table(rows, _by_model_columns(shown_types, cur), totals)
            + '<p class="note">Source total (the bills\' effective cost): '
            + f"{money(f.source_total, cur)}; "
            f"priced LLM usage with no bill: {money(f.usage, cur)}.</p>"
            + "<h3>By provider</h3>"
            + table(f.providers, _provider_columns(cur), empty=NO_BILLS)
            + "<h3>Shared pools and how they were split</h3>"
            + table(pools, _pool_columns(cur), empty=NO_POOLS)
            + "<h3>Idle GPU and utilisation</h3>"
            + (GPU_NOTE if gpu.height else "")
            + table(gpu, _gpu_columns(cur, held_idle), empty=NO_GPU)
        )

    def excel(self, figures: Figures, data: ReportData, book: Book) -> None:
        """The Costs sheet: by model and type with row and column totals, the proof that the
        month reconciles, providers, pools, GPU use and the cost trend with its native chart."""
        f, sheet, cur = figures, self.sheet_in(book), data.currency
        sheet.title(0, f"Costs, {data.month:%B %Y}", f"Effective (amortized) cost in {cur}.")
        rows = _by_model_sheet(f, data, book, sheet)
        line = _proof(f, book, sheet, rows, 4 + len(rows) + 2)
        line = _detail_tables(f, data, sheet, line)
        _trend(f, data, book, sheet, line)
        sheet.ws.freeze_panes(4, 2)


def _by_model_sheet(f: Figures, data: ReportData, book: Book, sheet: Sheet) -> list[dict[str, Any]]:
    """The by-model table with each row's total and change, and the column totals, as
    formulas; the rows written."""
    types = [*f.cost_types, "usage"]
    rows = [
        {
            **r,
            "label": data.label(r["model_id"]),
            "total": sum(r[t] for t in types),
            "change": sum(r[t] for t in types) - r["previous"],
        }
        for r in f.by_model.iter_rows(named=True)
    ]
    refs = sheet.table(3, 0, "CostByModel", _by_model_columns(types, data.currency), rows)
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
    return rows


def _proof(f: Figures, book: Book, sheet: Sheet, rows: list[dict[str, Any]], line: int) -> int:
    """Source total + priced usage against the attributed total, and their difference (0.00),
    as named cells; the next free line."""
    attributed = float(sum(r["total"] for r in rows))
    spend = float(f.source_total + f.usage)
    proof = [
        ("costs_source", "Source total: effective cost of the bills", None, float(f.source_total)),
        ("costs_usage", "Priced LLM usage with no bill (usage_costs)", None, float(f.usage)),
        (
            "costs_spend",
            "ML spend: source total + priced usage",
            "=costs_source+costs_usage",
            spend,
        ),
        (
            "costs_attributed",
            "Attributed: models + unallocated + idle + usage (the table's total)",
            "=costs_total",
            attributed,
        ),
        (
            "costs_difference",
            "Difference (must be 0.00)",
            "=ROUND(costs_attributed-costs_spend,2)",
            round(attributed - spend, 2),
        ),
    ]
    for i, (name, label, formula, value) in enumerate(proof, line):
        sheet.text(i, 0, label, "bold" if name == "costs_difference" else None)
        if formula:
            sheet.formula(i, 1, formula, value)
        else:
            sheet.number(i, 1, value)
        book.define(name, sheet, i, 1)
    return line + len(proof) + 1


def _detail_tables(f: Figures, data: ReportData, sheet: Sheet, line: int) -> int:
    """Providers, pool splits and GPU use; the next free line."""
    cur = data.currency
    sheet.text(line, 0, "By provider", "bold")
    sheet.table(line + 1, 0, "Providers", _provider_columns(cur), f.providers.to_dicts())
    line += f.providers.height + 3
    sheet.text(line, 0, "Shared pools and how they were split", "bold")
    pools = [
        {**r, "pool": r["rule_id"].removeprefix("pool:"), "model": data.label(r["model_id"])}
        for r in f.pools.iter_rows(named=True)
    ]
    sheet.table(line + 1, 0, "PoolSplits", _pool_columns(cur), pools)
    line += len(pools) + 3
    sheet.text(line, 0, "Idle GPU and utilisation", "bold")
    gpu = [{**r, "pool": r["rule_id"].removeprefix("pool:")} for r in f.gpu.iter_rows(named=True)]
    sheet.table(line + 1, 0, "GpuUse", _gpu_columns(cur, held_idle=True), gpu)
    return line + len(gpu) + 3


def _trend(f: Figures, data: ReportData, book: Book, sheet: Sheet, line: int) -> None:
    """Cost by month per series (top models, other models, idle, unallocated) and a native
    stacked chart of it."""
    lines = sentinels(data)
    keep = top_models(f.trend, "amount", data.options.top_models, lines)
    folded = (
        f.trend.with_columns(
            series=pl.when(pl.col("model_id").is_in([*keep, *lines]))
            .then(pl.col("model_id"))
            .otherwise(pl.lit(OTHER))
        )
        .group_by("series", "month")
        .agg(pl.col("amount").sum())
    )
    lookup = {(r["series"], r["month"]): r["amount"] for r in folded.iter_rows(named=True)}
    series = [s for s in [*keep, OTHER, *lines] if any((s, m) in lookup for m in data.window)]
    sheet.text(line, 0, "Cost by month", "bold")
    sheet.text(line + 1, 0, "Series")
    for j, month in enumerate(data.window, 1):
        sheet.number(line + 1, j, month, MONTH)
    for i, s in enumerate(series, line + 2):
        sheet.text(i, 0, data.label(s))
        for j, month in enumerate(data.window, 1):
            sheet.number(i, j, lookup.get((s, month), 0.0), MONEY0)
    chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    for i, s in enumerate(series, line + 2):
        chart.add_series(
            {
                "name": [sheet.name, i, 0],
                "categories": [sheet.name, line + 1, 1, line + 1, len(data.window)],
                "values": [sheet.name, i, 1, i, len(data.window)],
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
