"""The numbers of one month's finance report, read from the warehouse.

Amounts are in the project's currency; lines billed in another currency are listed apart (never
added to a different currency's total: converting is a later step with dated FX rates).

Both the HTML report and the Excel pack render these figures, so they can never disagree. The
source total is read from `cost_lines` itself and compared with the attribution tables, so a
stale attribution shows as a reconciliation difference instead of a wrong report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl

from roi import warehouse
from roi.attribution.ledger import month_column
from roi.attribution.vocabulary import COST_TYPES, IDLE, UNALLOCATED
from roi.config import ProjectConfig
from roi.errors import WarehouseError
from roi.reporting.checks import DEFAULT_CHANGE_THRESHOLD, Check, month_checks
from roi.warehouse import Connection

ZERO = Decimal(0)


@dataclass(frozen=True)
class MonthlyFigures:
    """Everything a monthly report shows, for one month."""

    month: date
    months: list[date]  # every attributed month, oldest first
    project_name: str
    currency: str
    generated_at: datetime
    attribution_id: str
    source_total: Decimal  # Σ cost_lines.effective_cost of the month
    billed_total: Decimal  # Σ cost_lines.billed_cost of the month (invoice view)
    allocated: Decimal  # to portfolio models
    unallocated: Decimal
    idle: Decimal
    previous_total: Decimal | None
    by_model: pl.DataFrame
    cost_types: list[str]
    trend: pl.DataFrame
    providers: pl.DataFrame
    unallocated_top: pl.DataFrame
    unallocated_reasons: pl.DataFrame
    conflicts: pl.DataFrame
    loads: pl.DataFrame
    source_files: pl.DataFrame
    other_currencies: pl.DataFrame  # cost billed in other currencies: reported apart, not converted
    checks: list[Check]  # warnings with amounts; empty when the month is whole and reconciled
    portfolio: pl.DataFrame  # roi portfolio for the month: models' P&L, flags and a TOTAL row
    pnl: pl.DataFrame  # model_roi up to the month: month, model_id, cost, value, net, npv
    discount_rate: float  # annual, `[finance] discount_rate`

    @property
    def attributed_total(self) -> Decimal:
        """Allocated + unallocated + idle: must equal the source total."""
        return self.allocated + self.unallocated + self.idle

    @property
    def difference(self) -> Decimal:
        """Attributed total minus source total (zero when reconciled)."""
        return self.attributed_total - self.source_total


def _dec(value: object) -> Decimal:
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def attributed_months(con: Connection) -> list[date]:
    """Months present in `allocated_costs`, oldest first."""
    return [
        r[0]
        for r in warehouse.fetch_all(con, "SELECT DISTINCT month FROM allocated_costs ORDER BY 1")
    ]


def monthly_figures(
    con: Connection,
    project: ProjectConfig,
    month: date | None = None,
    trend_months: int = 12,
    top_unallocated: int = 10,
    change_threshold: float = DEFAULT_CHANGE_THRESHOLD,
) -> MonthlyFigures:
    """Read one month's figures (default: the latest attributed month).

    Raises:
        WarehouseError: nothing is attributed yet, or not the month asked for.
    """
    months = attributed_months(con)
    if not months:
        raise WarehouseError(
            "the warehouse has no attributed months; run `roi load` and `roi attribute` first"
        )
    if month is None:
        month = months[-1]
    if month not in months:
        shown = f"{months[0]:%Y-%m} to {months[-1]:%Y-%m}"
        raise WarehouseError(
            f"no attributed costs for {month:%Y-%m}; attributed months are {shown}"
        )
    when = month_column(project.attribution)
    cur = project.project.currency
    in_month = f"date_trunc('month', {when})::DATE = ?"
    source_total, billed_total = warehouse.fetch_one(
        con,
        f"SELECT coalesce(sum(effective_cost), 0), coalesce(sum(billed_cost), 0) "
        f"FROM cost_lines WHERE {in_month} AND billing_currency = ?",
        [month, cur],
    )
    split = dict(
        warehouse.fetch_all(
            con,
            """SELECT CASE WHEN model_id IN ('__unallocated__', '__idle__') THEN model_id
                           ELSE 'allocated' END AS kind, sum(amount)
               FROM allocated_costs WHERE month = ? AND currency = ? GROUP BY 1""",
            [month, cur],
        )
    )
    index = months.index(month)
    previous_total = None
    if index > 0:
        previous_total = _dec(
            warehouse.fetch_one(
                con,
                "SELECT sum(amount) FROM allocated_costs WHERE month = ? AND currency = ?",
                [months[index - 1], cur],
            )[0]
        )
    attribution_id = str(
        warehouse.fetch_one(
            con, "SELECT max(attribution_id) FROM allocated_costs WHERE month = ?", [month]
        )[0]
    )
    by_model, cost_types = _by_model(con, month, months[index - 1] if index else None, cur)
    other_currencies = warehouse.fetch_frame(
        con,
        f"""SELECT billing_currency AS currency, count(*) AS lines,
                   sum(effective_cost) AS effective_cost, sum(billed_cost) AS billed_cost
            FROM cost_lines WHERE {in_month} AND billing_currency <> ?
            GROUP BY ALL ORDER BY 1""",
        [month, cur],
    )
    first_trend = months[max(0, index - trend_months + 1)]
    trend = warehouse.fetch_frame(
        con,
        """SELECT a.month, a.model_id, coalesce(p.name, a.model_id) AS model_name,
                  sum(a.amount) AS amount
           FROM allocated_costs a LEFT JOIN portfolio_models p USING (model_id)
           WHERE a.month BETWEEN ? AND ? AND a.currency = ?
           GROUP BY ALL ORDER BY a.month, a.model_id""",
        [first_trend, month, cur],
    )
    providers = warehouse.fetch_frame(
        con,
        f"""SELECT provider, billing_account_id, string_agg(DISTINCT invoice_id, ', ') AS invoices,
                   sum(billed_cost) AS billed_cost, sum(effective_cost) AS effective_cost,
                   count(*) AS lines
            FROM cost_lines WHERE {in_month} AND billing_currency = ?
            GROUP BY ALL ORDER BY provider""",
        [month, cur],
    )
    unallocated_top = warehouse.fetch_frame(
        con,
        """SELECT provider, service_name, resource_id, reason, sum(amount) AS amount,
                  sum(line_count) AS lines
           FROM unallocated_costs WHERE month = ? AND currency = ? GROUP BY ALL
           ORDER BY amount DESC, resource_id LIMIT ?""",
        [month, cur, top_unallocated],
    )
    unallocated_reasons = warehouse.fetch_frame(
        con,
        """SELECT reason, sum(amount) AS amount, sum(line_count) AS lines
           FROM unallocated_costs WHERE month = ? AND currency = ?
           GROUP BY ALL ORDER BY amount DESC""",
        [month, cur],
    )
    conflicts = warehouse.fetch_frame(
        con,
        """SELECT provider, resource_id, array_to_string(matched_models, ', ') AS matched_models,
                  chosen_model, amount, line_count AS lines
           FROM attribution_conflicts WHERE month = ? ORDER BY amount DESC""",
        [month],
    )
    loads = warehouse.fetch_frame(
        con,
        f"""SELECT l.load_id, l.connector, l.finished_at::VARCHAR AS finished_at,
                   count(*) AS lines, sum(c.effective_cost) AS effective_cost,
                   count(DISTINCT c.source_file) AS files
            FROM cost_lines c JOIN _loads l ON l.load_id = c._load_id
            WHERE date_trunc('month', c.{when})::DATE = ? AND c.billing_currency = ?
            GROUP BY ALL ORDER BY l.connector""",
        [month, cur],
    )
    source_files = warehouse.fetch_frame(
        con,
        f"""SELECT source_file, _load_id AS load_id, count(*) AS lines,
                   sum(effective_cost) AS effective_cost
            FROM cost_lines WHERE {in_month} AND billing_currency = ?
            GROUP BY ALL ORDER BY source_file""",
        [month, cur],
    )
    allocated, unallocated, idle = (
        _dec(split.get("allocated")),
        _dec(split.get(UNALLOCATED)),
        _dec(split.get(IDLE)),
    )
    checks = month_checks(
        con,
        month,
        months[index - 1] if index else None,
        cur,
        _dec(source_total),
        previous_total,
        allocated + unallocated + idle - _dec(source_total),
        other_currencies,
        change_threshold,
    )
    from roi.value.portfolio import portfolio  # the value side, read as `roi portfolio` reads it

    pnl = warehouse.fetch_frame(
        con,
        """SELECT month, model_id, cost, value, net, npv FROM model_roi
           WHERE month <= ? AND currency = ? ORDER BY model_id, month""",
        [month, cur],
    )
    return MonthlyFigures(
        month=month,
        months=months,
        project_name=project.project.name,
        currency=project.project.currency,
        generated_at=datetime.now(UTC).replace(microsecond=0),
        attribution_id=attribution_id,
        source_total=_dec(source_total),
        billed_total=_dec(billed_total),
        allocated=allocated,
        unallocated=unallocated,
        idle=idle,
        previous_total=previous_total,
        by_model=by_model,
        cost_types=cost_types,
        trend=trend,
        providers=providers,
        unallocated_top=unallocated_top,
        unallocated_reasons=unallocated_reasons,
        conflicts=conflicts,
        loads=loads,
        source_files=source_files,
        other_currencies=other_currencies,
        checks=checks,
        portfolio=portfolio(con, month),
        pnl=pnl,
        discount_rate=project.finance.discount_rate,
    )


COST_TYPE_ORDER = COST_TYPES


def _by_model(
    con: Connection, month: date, previous: date | None, cur: str
) -> tuple[pl.DataFrame, list[str]]:
    """One row per model (portfolio models first, then unallocated): amount by cost type."""
    rows = warehouse.fetch_frame(
        con,
        """SELECT a.model_id, a.cost_type, sum(a.amount) AS amount
           FROM allocated_costs a WHERE a.month = ? AND a.currency = ? GROUP BY ALL""",
        [month, cur],
    )
    present = set(rows["cost_type"].to_list())
    cost_types = [c for c in COST_TYPE_ORDER if c in present] + sorted(
        present - set(COST_TYPE_ORDER)
    )
    models = warehouse.fetch_frame(
        con,
        """SELECT model_id, name, owner, business_unit, stage FROM portfolio_models
           UNION ALL SELECT DISTINCT model_id, model_id, NULL, NULL, NULL FROM allocated_costs
           WHERE month = ? AND model_id NOT IN (SELECT model_id FROM portfolio_models)""",
        [month],
    )
    prev = warehouse.fetch_frame(
        con,
        "SELECT model_id, sum(amount) AS previous FROM allocated_costs "
        "WHERE month = ? AND currency = ? GROUP BY 1",
        [previous or date(1900, 1, 1), cur],
    )
    money = pl.Decimal(38, 10)
    wide = (
        rows.pivot(on="cost_type", index="model_id", values="amount", aggregate_function="sum")
        if rows.height
        else pl.DataFrame({"model_id": []}, schema={"model_id": pl.String})
    )
    wide = wide.with_columns(
        pl.col(c).cast(money).fill_null(Decimal(0))
        if c in wide.columns
        else pl.lit(Decimal(0), money).alias(c)
        for c in cost_types
    )
    frame = (
        models.join(wide, on="model_id", how="left")
        .join(prev, on="model_id", how="left")
        .with_columns(pl.col(c).fill_null(Decimal(0)) for c in cost_types)
        .with_columns(
            amount=pl.sum_horizontal(cost_types).cast(money)
            if cost_types
            else pl.lit(Decimal(0), money),
            unallocated=pl.col("model_id").str.starts_with("__"),
        )
        .sort(["unallocated", "amount", "model_id"], descending=[False, True, False])
        .drop("unallocated")
    )
    return frame, cost_types
