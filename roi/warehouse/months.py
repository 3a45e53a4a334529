"""Which month a command works on: one rule for every command.

The default month is **the latest month with billing data in `cost_lines`** (by the project's
month basis: the billing period, or the charge period). A month asked for with `--month` must
lie between the first and the latest such month; anything else is an error naming that range,
never an empty result. A warehouse with no billing lines falls back to the months attribution
holds (`allocated_costs`, then `usage_costs`: LLM usage with no bill).
"""

from __future__ import annotations

from datetime import date

from roi.errors import WarehouseError
from roi.warehouse.sql import Connection, fetch_all


def _billing_sql(basis: str) -> str:
    if basis == "billing_period":  # the file manifest knows, without a scan of the lines
        return """SELECT DISTINCT date_trunc('month', billing_period_start)::DATE
                  FROM _cost_files WHERE superseded_by IS NULL"""
    return """SELECT DISTINCT date_trunc('month', charge_period_start)::DATE
              FROM cost_lines WHERE charge_period_start IS NOT NULL"""


def data_months(con: Connection, basis: str = "billing_period") -> list[date]:
    """The months with billing data (by `basis`: "billing_period" or "charge_period"), oldest
    first; without billing lines, the months attribution holds."""
    for sql in (
        _billing_sql(basis),
        "SELECT DISTINCT month FROM allocated_costs",
        "SELECT DISTINCT month FROM usage_costs",
    ):
        found = sorted(r[0] for r in fetch_all(con, sql) if r[0] is not None)
        if found:
            return found
    return []


def default_month(con: Connection, basis: str = "billing_period") -> date | None:
    """The month a command works on when none is given: the latest month with billing data
    (None on an empty warehouse)."""
    months = data_months(con, basis)
    return months[-1] if months else None


def check_month(month: date, months: list[date], option: str = "--month") -> date:
    """`month` itself when it lies within `months` (first to last).

    Raises:
        WarehouseError: outside that range (or no data at all), naming the range.
    """
    if not months:
        raise WarehouseError(
            f"{option} {month:%Y-%m}: the warehouse holds no billing data yet; load some with "
            "`roi connect PATH` or `roi run` first"
        )
    if not months[0] <= month <= months[-1]:
        raise WarehouseError(
            f"{option} {month:%Y-%m} is outside the data: choose a month from "
            f"{months[0]:%Y-%m} to {months[-1]:%Y-%m}"
        )
    return month


def choose_month(
    con: Connection, month: date | None, basis: str = "billing_period", option: str = "--month"
) -> date:
    """The month asked for (checked against the data's range) or, when None, the default
    month (`MONTH_RULE`).

    Raises:
        WarehouseError: a month outside the data, or no data at all, with what to do.
    """
    months = data_months(con, basis)
    if month is not None:
        return check_month(month, months, option)
    if not months:
        raise WarehouseError(
            "the warehouse holds no billing data yet; load some with `roi connect PATH` or "
            "`roi run` first"
        )
    return months[-1]


def check_attributed(con: Connection, month: date) -> date:
    """`month` itself when attribution has computed it (`_attributed_months`).

    Raises:
        WarehouseError: billing data not yet attributed, saying to run `roi attribute`.
    """
    if not fetch_all(con, "SELECT 1 FROM _attributed_months WHERE month = ?", [month]):
        raise WarehouseError(
            f"{month:%Y-%m} has billing data that is not attributed yet; run `roi attribute` "
            "(or `roi run`) first"
        )
    return month
