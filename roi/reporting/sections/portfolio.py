"""The portfolio: every model's cost, value with its interval, ROI, payback, evidence, trend and
flags, and the portfolio totals.

Flags are `roi portfolio`'s (negative ROI, ROI interval straddles zero, retired but still
costing, value method missing, cost rising faster than value) plus three the report's thresholds
set: `fast decay` (the metric's decay costs more than `decay_warning` of the month's value each
month, from the stored decay run), `high exposure` (expected annual loss above
`exposure_warning` of a year's value, from the stored failure run) and `idle` (GPU efficiency
under `idle_warning`).

In the pack, value counted = value × the model's "value counted" share on the Assumptions sheet
(100% unless an analyst changes it), and net, ROI and the totals are formulas over those cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from xlsxwriter.utility import xl_col_to_name

from roi.reporting.book import Book, Sheet, a1, column_range
from roi.reporting.charts import Charts, sparkline
from roi.reporting.columns import Column
from roi.reporting.data import ReportData
from roi.reporting.html import escape, flags, table
from roi.reporting.numbers import MONEY, PERCENT, money, ratio
from roi.reporting.sections import Section, register

FIRST_ROW = 4  # the pack's first model row (the table's header is row 3)
NOTE = (
    '<p class="note">Value by each model\'s declared method (interval where the method has '
    "one: experiments, difference-in-differences, regressions), against everything the model "
    "cost. ROI = net / cost. Payback: the first month the cumulative net since the first "
    "month with data reached zero. The portfolio interval adds the bounds (the cautious "
    "reading). IRR: over the NPV horizon, annualised, shown only for flows that start "
    "negative (an investment) and give a rate from −99% to 1,000% a year; else n/a and "
    "why. The Portfolio row counts the models only; the summary's headline net and ROI are "
    "over all ML spend, unallocated and idle cost included.</p>"
)


@dataclass(frozen=True)
class Figures:
    """The portfolio rows (models, then TOTAL) with sparklines and every flag."""

    rows: pl.DataFrame
    total: dict[str, Any]
    trend: dict[str, list[float | None]]  # model → monthly net over the window
    exposure: dict[str, float]  # model → expected annual loss (stored failure run)
    risk_run: str | None


def _columns(cur: str, months: int) -> list[Column]:
    return [
        Column("model_id", "Model id", only="excel"),
        Column("label", "Model", only="excel"),
        Column("owner", "Owner", only="excel"),
        Column("who", "Model and owner", "html"),
        Column("stage", "Stage"),
        Column("evidence", "Evidence"),
        Column("cost", f"Cost ({cur})", "money"),
        Column("value", f"Value ({cur})", "money"),
        Column("interval", "Value interval", only="html"),
        Column("value_low", "Value low", "money", only="excel"),
        Column("value_high", "Value high", "money", only="excel"),
        Column("counted", "Value counted", "money", only="excel"),
        Column("net", "Net", "money"),
        Column("roi", "ROI", "ratio"),
        Column("payback_month", "Payback", "month", excel_header="Payback month"),
        Column("irr_shown", "IRR (horizon)", "html"),
        Column("spark", f"Net, last {months} months" if months > 1 else "Net", "html"),
        Column("expected_annual_loss", "Expected annual loss", "money", only="excel"),
        Column("badges", "Flags", "html"),
        Column("flags", "Flags", "wrap", width=44, only="excel"),
    ]


def _extra_flags(
    data: ReportData, row: dict[str, Any], exposure: dict[str, float], decay: dict[str, float]
) -> list[str]:
    out = []
    value = row.get("value")
    lost = decay.get(row["model_id"])
    if lost is not None and value and value > 0 and lost > data.options.decay_warning * value:
        out.append("fast decay")
    loss = exposure.get(row["model_id"])
    if loss is not None and (
        value is None or value <= 0 or loss > data.options.exposure_warning * 12 * value
    ):
        out.append("high exposure")
    efficiency = row.get("gpu_efficiency")
    if efficiency is not None and efficiency < data.options.idle_warning:
        out.append("idle")
    return out


def _irr(row: dict[str, Any]) -> str:
    """The IRR cell: the rate, or n/a with the reason under it."""
    if row.get("irr") is not None:
        return escape(ratio(row["irr"]))
    if not row.get("irr_reason"):
        return ""
    reason = str(row["irr_reason"]).removeprefix("n/a: ")
    return f'n/a<br><span class="note">{escape(reason)}</span>'


def _html_rows(f: Figures, data: ReportData) -> list[dict[str, Any]]:
    """The models' rows as the page shows them: sparklines, badges, the IRR and its reason."""
    rows = f.rows.with_columns(
        label=pl.col("model_id").replace_strict(data.labels, default=pl.col("model_id")),
        interval=pl.when(pl.col("value_low").is_not_null()).then(
            pl.format(
                "{} – {}",
                pl.col("value_low").cast(pl.Float64).map_elements(money, return_dtype=pl.String),
                pl.col("value_high").cast(pl.Float64).map_elements(money, return_dtype=pl.String),
            )
        ),
        evidence=pl.col("evidence").cast(pl.String).str.replace_all("_", " "),
    ).to_dicts()
    for row in rows:
        row["irr_shown"] = _irr(row)
        row["spark"] = sparkline(
            f.trend.get(row["model_id"], []), data.colours.get(row["model_id"], "#4e79a7")
        )
        row["badges"] = flags(row["flags"])
        row["who"] = (
            f'{escape(row["label"])}<br><span class="note">{escape(row["owner"] or "")}</span>'
        )
    return rows


@register
class Portfolio(Section[Figures]):
    """Every model's cost, value, ROI, payback and flags."""

    name = "portfolio"
    title = "Portfolio"
    sheet = "Portfolio"
    order = 20

    def read(self, data: ReportData) -> Figures:
        """The month's portfolio with flags, trends and the stored exposure."""
        risk = data.scenario("failure --all")
        exposure = {
            r["model_id"]: r["expected_annual_loss"]
            for r in (risk or {}).get("outputs", {}).get("models", [])
        }
        decay_run = data.scenario("decay --all")
        decay = {
            r["model_id"]: r["value_lost_per_month_of_age"]
            for r in (decay_run or {}).get("outputs", {}).get("decay", [])
            if r.get("value_lost_per_month_of_age") is not None
        }
        efficiency = data.pnl.filter(pl.col("month") == data.month).select(
            "model_id", "gpu_efficiency", "irr", "irr_reason"
        )
        frame = data.portfolio.join(efficiency, on="model_id", how="left")
        rows = []
        for row in frame.iter_rows(named=True):
            if row["model_id"] != "TOTAL":
                extra = _extra_flags(data, row, exposure, decay)
                row["flags"] = ", ".join([f for f in (row["flags"] or "").split(", ") if f] + extra)
                row["expected_annual_loss"] = exposure.get(row["model_id"])
            rows.append(row)
        table_rows = pl.DataFrame(rows, infer_schema_length=None)
        models = table_rows.filter(pl.col("model_id") != "TOTAL")
        total = table_rows.filter(pl.col("model_id") == "TOTAL").row(0, named=True)
        nets = {
            (r["model_id"], r["month"]): r["net"]
            for r in data.pnl.select("model_id", "month", "net").iter_rows(named=True)
        }
        trend = {m: [nets.get((m, month)) for month in data.window] for m in data.model_ids}
        return Figures(models, total, trend, exposure, risk["run_id"] if risk else None)

    def html(self, figures: Figures, data: ReportData, charts: Charts) -> str:
        """The portfolio table with sparklines and flags."""
        t = figures.total
        # The summed interval only where a model has one (a lone point value has none).
        intervals = figures.rows.height and figures.rows["value_low"].is_not_null().any()
        total = {
            "who": "Portfolio (models only)",
            "cost": money(t.get("cost")),
            "value": money(t.get("value")),
            "interval": f"{money(t.get('value_low'))} – {money(t.get('value_high'))}"
            if t.get("value_low") is not None and intervals
            else "",
            "net": money(t.get("net")),
            "roi": ratio(t.get("roi")),
            "badges": t.get("flags") or "",
        }
        columns = _columns(data.currency, len(data.window))
        return NOTE + table(_html_rows(figures, data), columns, total)

    def excel(self, figures: Figures, data: ReportData, book: Book) -> None:
        """The Portfolio sheet: live net, ROI and totals over cost, value and value counted."""
        sheet, cur = self.sheet_in(book), data.currency
        sheet.title(
            0,
            f"Portfolio, {data.month:%B %Y}",
            f"Amounts in {cur}. Value counted = value × the model's share on the Assumptions "
            "sheet.",
        )
        rows = [
            {
                **r,
                "label": data.label(r["model_id"]),
                "evidence": (r["evidence"] or "").replace("_", " "),
                "counted": None,
                "roi_net": r["net"],
                "net": None,
                "roi": None,
            }
            for r in figures.rows.iter_rows(named=True)
        ]
        refs = sheet.table(3, 0, "Portfolio", _columns(cur, len(data.window)), rows)
        col = {k: v[0] for k, v in refs.items()}
        for i, row in enumerate(rows):
            _model_formulas(sheet, col, FIRST_ROW + i, row)
        total = FIRST_ROW + len(rows)
        _totals(book, sheet, refs, total, rows)
        _highlights(book, sheet, col, max(total - 1, FIRST_ROW))
        sheet.ws.freeze_panes(4, 2)


def _model_formulas(sheet: Sheet, col: dict[str, int], r: int, row: dict[str, Any]) -> None:
    """A model's value counted, net and ROI as formulas, with roi's figures."""
    at = {k: a1(r, c) for k, c in col.items()}
    value, cost, net = row["value"], row["cost"] or 0.0, row["roi_net"]
    share = f"INDEX(value_counted,MATCH({at['model_id']},assumption_models,0))"
    sheet.formula(r, col["counted"], f'=IF({at["value"]}="","",{at["value"]}*{share})', value)
    # After its retirement a model has no value and its cost is a loss: net = −cost.
    lost = value is None and net is not None
    sheet.formula(
        r,
        col["net"],
        f"=-{at['cost']}" if lost else f'=IF({at["counted"]}="","",{at["counted"]}-{at["cost"]})',
        net,
    )
    sheet.formula(
        r,
        col["roi"],
        f'=IF(OR({at["net"]}="",{at["cost"]}=0),"",{at["net"]}/{at["cost"]})',
        None if net is None or not cost else net / cost,
        PERCENT,
    )


def _totals(
    book: Book,
    sheet: Sheet,
    refs: dict[str, tuple[int, int, int]],
    total: int,
    rows: list[dict[str, Any]],
) -> None:
    """The Portfolio row: sums, net and ROI as formulas, and the names the Summary uses."""
    col = {k: v[0] for k, v in refs.items()}
    at = {k: a1(total, c) for k, c in col.items()}
    sheet.text(total, col["label"], "Portfolio", "bold")
    sums: dict[str, float] = {}
    for key in ("cost", "value", "counted", "expected_annual_loss"):
        sums[key] = float(sum(r["value" if key == "counted" else key] or 0.0 for r in rows))
        sheet.formula(
            total, col[key], f"=SUM({column_range(sheet, refs[key])})", sums[key], f"bold:{MONEY}"
        )
    net = sums["counted"] - sums["cost"]
    sheet.formula(total, col["net"], f"={at['counted']}-{at['cost']}", net, f"bold:{MONEY}")
    sheet.formula(
        total,
        col["roi"],
        f'=IF({at["cost"]}=0,"",{at["net"]}/{at["cost"]})',
        net / sums["cost"] if sums["cost"] else None,
        f"bold:{PERCENT}",
    )
    for name, key in (
        ("portfolio_cost", "cost"),
        ("portfolio_value", "counted"),
        ("portfolio_net", "net"),
        ("portfolio_eal", "expected_annual_loss"),
    ):
        book.define(name, sheet, total, col[key])


def _highlights(book: Book, sheet: Sheet, col: dict[str, int], last: int) -> None:
    """Negative net and ROI in red, and the loss of a model flagged for high exposure."""
    for key in ("roi", "net"):
        sheet.ws.conditional_format(
            FIRST_ROW,
            col[key],
            last,
            col[key],
            {"type": "cell", "criteria": "<", "value": 0, "format": book.format("warn")},
        )
    flag_column = xl_col_to_name(col["flags"])
    sheet.ws.conditional_format(
        FIRST_ROW,
        col["expected_annual_loss"],
        last,
        col["expected_annual_loss"],
        {
            "type": "formula",
            "format": book.format("warn"),
            "criteria": f'=ISNUMBER(SEARCH("high exposure",${flag_column}{FIRST_ROW + 1}))',
        },
    )
