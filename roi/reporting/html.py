"""The monthly finance report as one self-contained HTML file (inline CSS and SVG charts).

Every value from the warehouse is escaped: resource ids, tags and names come from billing files
and are untrusted text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from html import escape
from typing import Any

import polars as pl

from roi.reporting.charts import model_chart, to_svg, trend_chart
from roi.reporting.figures import MonthlyFigures

Formatter = Callable[[Any], str]

CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1d2433;
       margin: 2rem auto; max-width: 1100px; padding: 0 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2.2rem; border-bottom: 2px solid #e3e7ee;
     padding-bottom: .3rem; }
.meta { color: #5b6475; font-size: .85rem; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1.2rem 0; }
.card { border: 1px solid #e3e7ee; border-radius: 8px; padding: .7rem 1rem; min-width: 170px; }
.card .label { color: #5b6475; font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
.card .value { font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .sub { color: #5b6475; font-size: .8rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin: .6rem 0; }
th, td { border-bottom: 1px solid #e3e7ee; padding: .35rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f5f7fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; border-top: 2px solid #c9d0db; }
td.id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .78rem;
        word-break: break-all; }
.ok { color: #1a7f37; font-weight: 600; } .bad { color: #b42318; font-weight: 600; }
.warn { border: 1px solid #f0b4ae; background: #fff6f5; border-radius: 8px; padding: .2rem 1rem; }
.chart { margin: 1rem 0; overflow-x: auto; }
details summary { cursor: pointer; color: #3056d3; }
footer { margin-top: 3rem; color: #5b6475; font-size: .8rem; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } }
"""


def money(value: Any, currency: str = "") -> str:
    """`12,345.67` (and the currency code when given); negative amounts in parentheses."""
    if value is None:
        return ""
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    text = f"{abs(amount):,.2f}"
    text = f"({text})" if amount < 0 else text
    return f"{text} {currency}".strip()


def count(value: Any) -> str:
    """A whole number with thousands separators."""
    return "" if value is None else f"{int(value):,}"


def percent(part: Decimal, whole: Decimal) -> str:
    """`part` as a percentage of `whole`, one decimal."""
    return "n/a" if not whole else f"{float(part / whole):.1%}"


def table(
    frame: pl.DataFrame,
    columns: Sequence[tuple[str, str, Formatter | None]],
    total: dict[str, str] | None = None,
) -> str:
    """An HTML table of `frame`: (column, heading, formatter) triples; numbers right-aligned."""
    head = "".join(
        f'<th class="{"num" if fmt else ""}">{escape(title)}</th>' for _, title, fmt in columns
    )
    body = []
    for row in frame.iter_rows(named=True):
        cells = []
        for name, _, fmt in columns:
            value = row.get(name)
            css = (
                "num"
                if fmt
                else ("id" if name in ("resource_id", "source_file", "load_id") else "")
            )
            shown = fmt(value) if fmt else ("" if value is None else str(value))
            cells.append(f'<td class="{css}">{escape(shown)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    if total:
        total_cells = "".join(
            f'<td class="{"num" if fmt else ""}">{escape(total.get(name, ""))}</td>'
            for name, _, fmt in columns
        )
        body.append(f'<tr class="total">{total_cells}</tr>')
    if not body:
        return '<p class="meta">None.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _model_label(row: dict[str, Any]) -> str:
    if row["model_id"] == "__unallocated__":
        return "Unallocated"
    if row["model_id"] == "__idle__":
        return "Idle GPU capacity"
    return str(row["name"])


def ratio(value: Any) -> str:
    """An ROI as a percentage (net over cost): `412%`, `−38%`."""
    return "" if value is None else f"{value:.0%}".replace("-", "−")


def value_section(f: MonthlyFigures) -> str:
    """Value, net, ROI and payback per model, with the portfolio totals (`roi portfolio`)."""
    cur = f.currency
    rows = f.portfolio.with_columns(
        label=pl.coalesce("name", "model_id"),
        interval=pl.when(pl.col("value_low").is_not_null()).then(
            pl.format(
                "{} – {}",
                pl.col("value_low").map_elements(money, return_dtype=pl.String),
                pl.col("value_high").map_elements(money, return_dtype=pl.String),
            )
        ),
        payback=pl.col("payback_month").dt.strftime("%Y-%m"),
        evidence=pl.col("evidence").str.replace_all("_", " "),
    )
    models = rows.filter(pl.col("model_id") != "TOTAL")
    total = rows.filter(pl.col("model_id") == "TOTAL").row(0, named=True) if rows.height else {}
    columns: list[tuple[str, str, Formatter | None]] = [
        ("label", "Model", None),
        ("owner", "Owner", None),
        ("stage", "Stage", None),
        ("evidence", "Evidence", None),
        ("cost", f"Cost ({cur})", money),
        ("value", f"Value ({cur})", money),
        ("interval", "Value interval", None),
        ("net", "Net", money),
        ("roi", "ROI", ratio),
        ("payback", "Payback", None),
        ("flags", "Flags", None),
    ]
    totals = {
        "label": "Portfolio",
        "cost": money(total.get("cost")),
        "value": money(total.get("value")),
        "interval": (
            f"{money(total.get('value_low'))} – {money(total.get('value_high'))}"
            if total.get("value_low") is not None
            else ""
        ),
        "net": money(total.get("net")),
        "roi": ratio(total.get("roi")),
        "flags": total.get("flags") or "",
    }
    return (
        "<p>What each model earned this month by its declared method, against everything it "
        "cost (direct, shared, amortized training and priced LLM usage). Net = value − cost; "
        "ROI = net / cost; payback is the first month the cumulative net since the first month "
        "with data reached zero. Intervals are the method's (experiments, "
        "difference-in-differences, regressions); the portfolio interval adds the bounds.</p>"
        + table(models, columns, total=totals)
    )


def render_html(figures: MonthlyFigures, title: str) -> str:
    """The complete report for one month."""
    f = figures
    cur = f.currency
    change = ""
    if f.previous_total:
        delta = f.source_total - f.previous_total
        sign = "+" if delta >= 0 else "−"
        change = f"{sign}{money(abs(delta))} vs previous month ({percent(delta, f.previous_total)})"
    if f.checks:
        items = "".join(f"<li>{escape(c.message)}</li>" for c in f.checks)
        status = (
            f'<div class="warn"><p class="bad">{len(f.checks)} warning(s): these figures are '
            f"not the whole story</p><ul>{items}</ul></div>"
        )
    else:
        status = (
            '<p class="ok">All checks passed: allocated + unallocated + idle = source total to '
            "the cent; no rejected lines; one currency; no unusual change.</p>"
        )
    cards = [
        ("Effective cost", money(f.source_total, cur), change or "amortized, model P&amp;L basis"),
        ("Billed cost", money(f.billed_total, cur), "invoice basis"),
        (
            "Allocated to models",
            money(f.allocated, cur),
            percent(f.allocated, f.source_total) + " of total",
        ),
        (
            "Unallocated",
            money(f.unallocated, cur),
            percent(f.unallocated, f.source_total) + " of total",
        ),
    ]
    total = f.portfolio.filter(pl.col("model_id") == "TOTAL")
    if total.height and total["value"][0] is not None:
        t = total.row(0, named=True)
        cards.append(
            (
                "Measured value",
                money(t["value"], cur),
                f"net {money(t['net'], cur)}, ROI {ratio(t['roi'])}",
            )
        )
    card_html = "".join(
        f'<div class="card"><div class="label">{label}</div>'
        f'<div class="value">{escape(value)}</div>'
        f'<div class="sub">{sub if sub.endswith("basis") else escape(sub)}</div></div>'
        for label, value, sub in cards
    )
    by_model = f.by_model.with_columns(
        label=pl.struct("model_id", "name").map_elements(_model_label, return_dtype=pl.String),
        change=pl.col("amount") - pl.col("previous").fill_null(0),
    )
    shown_types = [c for c in f.cost_types if (by_model[c] != 0).any()]
    cost_cols: list[tuple[str, str, Formatter | None]] = [
        (c, c.replace("_", " "), money) for c in shown_types
    ]
    model_cols: list[tuple[str, str, Formatter | None]] = [
        ("label", "Model", None),
        ("business_unit", "Business unit", None),
        ("stage", "Stage", None),
        *cost_cols,
        ("amount", f"Total ({cur})", money),
        ("previous", "Previous month", money),
        ("change", "Change", money),
    ]
    totals = {c: money(by_model[c].sum()) for c, _, _ in cost_cols}
    totals.update(
        label="Total",
        amount=money(by_model["amount"].sum()),
        previous=money(by_model["previous"].sum()),
        change=money(by_model["change"].sum()),
    )
    providers = table(
        f.providers,
        [
            ("provider", "Provider", None),
            ("billing_account_id", "Billing account", None),
            ("invoices", "Invoices", None),
            ("billed_cost", f"Billed ({cur})", money),
            ("effective_cost", f"Effective ({cur})", money),
            ("lines", "Lines", count),
        ],
        total={
            "provider": "Total",
            "billed_cost": money(f.billed_total),
            "effective_cost": money(f.source_total),
            "lines": count(f.providers["lines"].sum()),
        },
    )
    unallocated = table(
        f.unallocated_top,
        [
            ("provider", "Provider", None),
            ("service_name", "Service", None),
            ("resource_id", "Resource", None),
            ("reason", "Why unallocated", None),
            ("amount", f"Cost ({cur})", money),
            ("lines", "Lines", count),
        ],
    )
    reasons = table(
        f.unallocated_reasons,
        [("reason", "Reason", None), ("amount", f"Cost ({cur})", money), ("lines", "Lines", count)],
    )
    conflicts = table(
        f.conflicts,
        [
            ("provider", "Provider", None),
            ("resource_id", "Resource", None),
            ("matched_models", "Matched by", None),
            ("chosen_model", "Counted for", None),
            ("amount", f"Cost ({cur})", money),
        ],
    )
    loads = table(
        f.loads,
        [
            ("load_id", "Load id", None),
            ("connector", "Connector", None),
            ("finished_at", "Loaded at (UTC)", None),
            ("files", "Files", count),
            ("lines", "Lines", count),
            ("effective_cost", f"Effective ({cur})", money),
        ],
    )
    files = table(
        f.source_files,
        [
            ("source_file", "Source file", None),
            ("load_id", "Load id", None),
            ("lines", "Lines", count),
            ("effective_cost", f"Effective ({cur})", money),
        ],
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} — {f.month:%B %Y}</title>
<style>{CSS}</style></head>
<body>
<h1>{escape(title)}: {f.month:%B %Y}</h1>
<p class="meta">{escape(f.project_name)} · generated {f.generated_at:%Y-%m-%d %H:%M} UTC ·
attribution <code>{escape(f.attribution_id)}</code> · amounts in {escape(cur)}, effective
(amortized) cost unless marked billed</p>
<div class="cards">{card_html}</div>
<section id="checks">{status}</section>

<h2>Cost per model</h2>
<div class="chart" id="model-chart">{to_svg(model_chart(f))}</div>
{table(by_model, model_cols, total=totals)}

<h2>Value and ROI</h2>
<div id="value">{value_section(f)}</div>

<h2>Trend</h2>
<div class="chart" id="trend-chart">{to_svg(trend_chart(f))}</div>

<h2>Reconciliation with the invoices</h2>
<p>Billed cost is what the providers invoice for the month; effective cost spreads commitments
(savings plans, reservations) over the usage they cover. Models are charged effective cost.</p>
{providers}

<h2>Unallocated cost</h2>
<p>Cost no model selector matched, largest first: the worklist for tags and selectors.</p>
{reasons}
{unallocated}

<h2>Selector conflicts</h2>
<p>Lines two models' selectors matched; each is counted once, for the model shown.</p>
{conflicts}

<h2>Lineage</h2>
<p>Every figure above comes from these loads (table <code>_loads</code>) and source files
(columns <code>cost_lines.source_file</code> and <code>source_row</code>).</p>
{loads}
<details><summary>{f.source_files.height} source files</summary>{files}</details>

<footer>roi · {escape(f.project_name)} · report for {f.month:%Y-%m}</footer>
</body></html>
"""
