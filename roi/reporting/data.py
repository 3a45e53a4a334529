"""What every section of a report shares: the month, the currency, the models it shows, their
labels and colours, and the warehouse reads more than one section needs (each read once).

Colours are fixed per model for the whole report (and every report): the models in id order
take the palette in turn, so a model is the same colour in every chart; unallocated and idle
are greys, apart from the models; beyond the top N a chart folds models into "Other models".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

import polars as pl

from roi import warehouse
from roi.attribution.checks import project_warnings
from roi.config import ProjectConfig, ReportConfig
from roi.errors import WarehouseError
from roi.reporting.checks import Check, month_checks
from roi.vocabulary import (
    IDLE,
    IDLE_HELD,
    OTHER,
    SENTINEL_LABELS,
    UNALLOCATED,
    add_months,
    to_decimal,
)
from roi.warehouse import Connection

# Tableau 20, without its greys (kept for unallocated, idle and "other").
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#a0cbe8",
    "#ffbe7d",
    "#8cd17d",
    "#b6992d",
    "#86bcb6",
    "#f1ce63",
    "#d37295",
    "#fabfd2",
    "#d4a6c8",
    "#499894",
    "#e49444",
)
SENTINEL_COLOURS = {
    UNALLOCATED: "#8c8c8c",
    IDLE: "#c7c7c7",
    IDLE_HELD: "#dcdcdc",
    OTHER: "#5f5f5f",
}


@dataclass(frozen=True)
class Totals:
    """The month's money in the report currency, and the checks it must pass."""

    source_total: Decimal  # Σ cost_lines.effective_cost
    billed_total: Decimal  # Σ cost_lines.billed_cost (the invoices)
    allocated: Decimal  # to portfolio models
    unallocated: Decimal
    idle: Decimal
    usage: Decimal  # LLM usage priced from the gateway, no bill behind it (usage_costs)
    previous_spend: Decimal | None  # the month before: source total + usage
    other_currencies: pl.DataFrame
    checks: list[Check]

    @property
    def spend(self) -> Decimal:
        """All ML spend: the bills' effective cost plus priced usage with no bill."""
        return self.source_total + self.usage

    @property
    def attributed(self) -> Decimal:
        """Allocated + unallocated + idle (equals the source total when reconciled)."""
        return self.allocated + self.unallocated + self.idle


def month_range(column: str) -> str:
    """SQL true for rows whose `column` (a UTC timestamp) falls in a month given as two
    parameters (`month_bounds`): a range, which DuckDB answers without truncating every row's
    time with time-zone rules."""
    return f"{column} >= ?::TIMESTAMPTZ AND {column} < ?::TIMESTAMPTZ"


def month_bounds(month: date) -> tuple[str, str]:
    """The first instant of `month` and of the month after, in UTC."""
    after = add_months(month, 1)
    return f"{month.isoformat()} 00:00:00+00", f"{after.isoformat()} 00:00:00+00"


@dataclass
class ReportData:
    """One report's shared inputs and reads."""

    con: Connection
    project: ProjectConfig
    report: ReportConfig
    month: date
    months: list[date]  # every attributed month, oldest first
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    @property
    def options(self) -> Any:
        """The report's `[options]`."""
        return self.report.options

    @property
    def currency(self) -> str:
        """The report currency."""
        return str(self.options.currency or self.project.project.currency)

    @cached_property
    def previous(self) -> date | None:
        """The attributed month before the report month."""
        index = self.months.index(self.month)
        return self.months[index - 1] if index else None

    @cached_property
    def window(self) -> list[date]:
        """The months the trends cover, ending with the report month."""
        index = self.months.index(self.month)
        return self.months[max(0, index - self.options.trend_months + 1) : index + 1]

    @cached_property
    def every_model(self) -> pl.DataFrame:
        """Every portfolio model, in id order (colours follow it, whatever a report shows)."""
        return warehouse.fetch_frame(
            self.con,
            "SELECT model_id, name, owner, business_unit, stage, domain, launched, retired "
            "FROM portfolio_models ORDER BY model_id",
        )

    @cached_property
    def models(self) -> pl.DataFrame:
        """The portfolio models the report shows."""
        frame: pl.DataFrame = self.every_model
        if self.options.models:
            frame = frame.filter(pl.col("model_id").is_in(list(self.options.models)))
        return frame

    @cached_property
    def model_ids(self) -> list[str]:
        """Ids of the models shown."""
        return list(self.models["model_id"])

    @cached_property
    def labels(self) -> dict[str, str]:
        """Model id (or sentinel) → its full name."""
        names = dict(zip(self.models["model_id"], self.models["name"], strict=True))
        return {**SENTINEL_LABELS, **names}

    @cached_property
    def colours(self) -> dict[str, str]:
        """Model id (or sentinel) → its colour in every chart."""
        every = self.every_model["model_id"].to_list()
        return {**{m: PALETTE[i % len(PALETTE)] for i, m in enumerate(every)}, **SENTINEL_COLOURS}

    def label(self, model_id: str) -> str:
        """The name a reader sees for a model id."""
        return self.labels.get(model_id, model_id)

    @cached_property
    def pnl(self) -> pl.DataFrame:
        """`model_roi` over the trend window, for the models shown."""
        frame = warehouse.fetch_frame(
            self.con,
            "SELECT * FROM model_roi WHERE month BETWEEN ? AND ? AND currency = ? "
            "ORDER BY model_id, month",
            [self.window[0], self.month, self.currency],
        )
        return frame.filter(pl.col("model_id").is_in(self.model_ids))

    @cached_property
    def portfolio(self) -> pl.DataFrame:
        """`roi portfolio` for the month (models shown and a recomputed TOTAL row)."""
        from roi.value.portfolio import TOTAL, portfolio

        frame = portfolio(self.con, self.month)
        models = frame.filter(pl.col("model_id").is_in(self.model_ids))
        total = frame.filter(pl.col("model_id") == TOTAL)
        if self.options.models:
            valued = models.filter(pl.col("value").is_not_null())
            cost, value = float(models["cost"].sum()), float(valued["value"].sum())
            total = total.with_columns(
                cost=pl.lit(cost),
                value=pl.lit(value if valued.height else None, pl.Float64),
                net=pl.lit(value - cost if valued.height else None, pl.Float64),
                roi=pl.lit((value - cost) / cost if valued.height and cost else None, pl.Float64),
            )
        return pl.concat([models, total], how="diagonal_relaxed")

    @cached_property
    def totals(self) -> Totals:
        """The month's totals (source, billed, allocated, unallocated, idle, usage) and checks."""
        from roi.attribution.ledger import month_column

        cur, when = self.currency, month_column(self.project.attribution)
        in_month = month_range(when)

        def source(month: date) -> tuple[Decimal, Decimal]:
            row = warehouse.fetch_one(
                self.con,
                f"SELECT coalesce(sum(effective_cost), 0), coalesce(sum(billed_cost), 0) "
                f"FROM cost_lines WHERE {in_month} AND billing_currency = ?",
                [*month_bounds(month), cur],
            )
            return to_decimal(row[0]), to_decimal(row[1])

        def usage(month: date) -> Decimal:
            return to_decimal(
                warehouse.fetch_one(
                    self.con,
                    "SELECT sum(amount) FROM usage_costs WHERE month = ? AND currency = ?",
                    [month, cur],
                )[0]
            )

        effective, billed = source(self.month)
        split = dict(
            warehouse.fetch_all(
                self.con,
                """SELECT CASE WHEN model_id = ? THEN model_id
                               WHEN basis = 'idle' THEN ? ELSE 'allocated' END,
                          sum(amount)
                   FROM allocated_costs WHERE month = ? AND currency = ? GROUP BY 1""",
                [UNALLOCATED, IDLE, self.month, cur],
            )
        )
        previous_source = previous = None
        if self.previous is not None:
            previous_source = source(self.previous)[0]
            previous = previous_source + usage(self.previous)
        others = warehouse.fetch_frame(
            self.con,
            f"""SELECT billing_currency AS currency, count(*) AS lines,
                       sum(effective_cost) AS effective_cost, sum(billed_cost) AS billed_cost
                FROM cost_lines WHERE {in_month} AND billing_currency <> ?
                GROUP BY ALL ORDER BY 1""",
            [*month_bounds(self.month), cur],
        )
        allocated, unallocated, idle = (
            to_decimal(split.get("allocated")),
            to_decimal(split.get(UNALLOCATED)),
            to_decimal(split.get(IDLE)),
        )
        checks = month_checks(
            self.con,
            self.month,
            self.previous,
            cur,
            effective,
            previous_source,
            allocated + unallocated + idle - effective,
            others,
            self.options.change_warning,
        )
        checks += [Check("config", w) for w in project_warnings(self.con, self.project)]
        return Totals(
            effective,
            billed,
            allocated,
            unallocated,
            idle,
            usage(self.month),
            previous,
            others,
            checks,
        )

    @cached_property
    def allocated(self) -> pl.DataFrame:
        """`allocated_costs` of the window: month × model × cost type × basis × rule × provider."""
        return warehouse.fetch_frame(
            self.con,
            """SELECT month, model_id, cost_type, basis, rule_id, provider,
                      sum(amount) AS amount, sum(billed_amount) AS billed
               FROM allocated_costs WHERE month BETWEEN ? AND ? AND currency = ?
               GROUP BY ALL ORDER BY ALL""",
            [self.window[0], self.month, self.currency],
        )

    @cached_property
    def attribution_id(self) -> str | None:
        """The latest attribution run (the one the figures come from)."""
        found = warehouse.fetch_one(self.con, "SELECT max(attribution_id) FROM _attributions")[0]
        return None if found is None else str(found)

    @cached_property
    def _scenarios(self) -> dict[str, dict[str, Any]]:
        """Per command, the latest stored scenario run computed on the warehouse's figures."""
        from roi.scenarios.runs import content_digest

        latest: dict[str, dict[str, Any]] = {}
        rows = warehouse.fetch_all(
            self.con,
            """SELECT command, run_id, outputs, created_at FROM scenario_runs
               WHERE inputs->>'$.warehouse_content' = ? ORDER BY created_at""",
            [content_digest(self.con)],
        )
        for command, run_id, outputs, created in rows:
            latest[command] = {"run_id": run_id, "outputs": outputs, "created_at": created}
        return latest

    def scenario(self, command: str) -> dict[str, Any] | None:
        """The latest stored scenario run of `command` computed on the warehouse's figures."""
        run = self._scenarios.get(command)
        if run is None:
            return None
        if isinstance(run["outputs"], str):
            run["outputs"] = json.loads(run["outputs"])
        return run


def open_report(
    con: Connection, project: ProjectConfig, report: ReportConfig, month: date | None
) -> ReportData:
    """The shared data of a report for `month` (default: the latest attributed month).

    Raises:
        WarehouseError: nothing is attributed yet, or not the month asked for.
    """
    months = [
        r[0]
        for r in warehouse.fetch_all(con, "SELECT DISTINCT month FROM allocated_costs ORDER BY 1")
    ]
    if not months:
        raise WarehouseError(
            "the warehouse has no attributed months; run `roi load` and `roi attribute` first"
        )
    month = month or months[-1]
    if month not in months:
        raise WarehouseError(
            f"no attributed costs for {month:%Y-%m}; attributed months are "
            f"{months[0]:%Y-%m} to {months[-1]:%Y-%m}"
        )
    return ReportData(con, project, report, month, months)
