"""The checks a month's figures must pass before anyone calls them reconciled.

A report says "all checks passed" only when none of these finds anything. Each finding is a
warning with the amount it concerns, so a reader sees what is missing from the figures and how
much, instead of a green line over numbers that silently leave money out:

- attribution: allocated + unallocated + idle differs from the source total;
- rejected billing lines (`on_reject = "skip"`) whose amounts are in no figure, and rejected rows
  of other sources;
- the project's currency has no lines while the bills are in another currency, and amounts
  billed in other currencies (listed apart, not converted);
- the month's cost moved more than a threshold against the previous month;
- two exports of one billing account hold the same billing period (both count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl

from roi import warehouse
from roi.warehouse import Connection

DEFAULT_CHANGE_THRESHOLD = 0.25  # a month-on-month move of more than 25% is worth a look


@dataclass(frozen=True)
class Check:
    """One finding: what is wrong, and the amount it concerns (None when there is none)."""

    kind: str
    message: str
    amount: Decimal | None = None


# Rejected rows that still stand: from the latest load of each connector that read their file
# (a later load of a fixed file supersedes them).
OPEN_REJECTS = """
    WITH read_files AS (
        SELECT l.connector, l.target_table, l.load_id, l.finished_at, f.file
        FROM _loads l, unnest(from_json(l.files, '["VARCHAR"]')) AS f(file)),
    latest AS (
        SELECT connector, file, arg_max(load_id, finished_at) AS load_id,
               arg_max(target_table, finished_at) AS target_table
        FROM read_files GROUP BY ALL)
    SELECT r.*, t.target_table FROM _rejects r JOIN latest t
      ON t.connector = r.connector AND t.load_id = r.load_id
     AND t.file = split_part(r.source_file, '#', 1)
"""


def _money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "amount unknown"
    amount = value.quantize(Decimal("0.01"))
    return f"{amount:,.2f} {currency}"


def rejected_billing(con: Connection, month: date) -> pl.DataFrame:
    """Open rejected billing lines of `month` (or of no readable month), one row per line."""
    return warehouse.fetch_frame(
        con,
        f"""SELECT source_file, source_row, any_value(month) AS month,
                   any_value(amount) AS amount, any_value(currency) AS currency,
                   string_agg(DISTINCT "column", ', ' ORDER BY "column") AS fields
            FROM ({OPEN_REJECTS}) r
            WHERE target_table = 'cost_lines' AND (month = ? OR month IS NULL)
            GROUP BY ALL ORDER BY source_file, source_row""",
        [month],
    )


def _rejected_lines(rejected: pl.DataFrame, cur: str, currency: str) -> Check:
    """One warning for the rejected billing lines of one currency."""
    rows = rejected.filter(pl.col("currency").fill_null(currency) == cur)
    known = rows.filter(pl.col("amount").is_not_null())
    amount = Decimal(str(known["amount"].sum())) if known.height else None
    unknown = rows.height - known.height
    unread = f" plus {unknown} line(s) whose amount could not be read" if unknown and amount else ""
    fields = sorted({f for text in rows["fields"].to_list() for f in text.split(", ")})
    files = sorted(set(rows["source_file"].to_list()))
    more = " and more" if len(files) > 1 else ""
    return Check(
        "rejects",
        f"{rows.height} billing line(s) were rejected and are in no figure: "
        f"{_money(amount, cur)}{unread} (fields {', '.join(fields)}; {files[0]}{more}); fix the "
        "source and load it again (table _rejects lists every row)",
        amount,
    )


def _other_currencies(other: pl.DataFrame, currency: str, source_total: Decimal) -> Check:
    """The amounts billed in other currencies (every figure is 0 when none is in `currency`)."""
    listed = "; ".join(
        f"{_money(Decimal(str(r['effective_cost'])), str(r['currency']))} ({r['lines']:,} lines)"
        for r in other.iter_rows(named=True)
    )
    if source_total == 0:
        return Check(
            "currency",
            f"no cost lines are billed in {currency} this month, so every figure is 0; "
            f"the bills are in other currencies: {listed}; set [project] currency to "
            "the billing currency (or load the bills in " + currency + ")",
        )
    return Check(
        "currency",
        f"also billed in other currencies, not included and not converted to {currency}: {listed}",
    )


def _several_exports(con: Connection, month: date) -> list[Check]:
    """Billing accounts with more than one export of the month (both count)."""
    return [
        Check(
            "exports",
            f"{provider} account {account} has several exports this month ({exports}); both "
            "count: check that they bill different charges",
        )
        for provider, account, exports in warehouse.fetch_all(
            con,
            """SELECT provider, billing_account_id,
                      string_agg(DISTINCT export, ', ' ORDER BY export)
               FROM cost_lines WHERE billing_period_start::DATE = ?
               GROUP BY ALL HAVING count(DISTINCT export) > 1""",
            [month],
        )
    ]


def month_checks(
    con: Connection,
    month: date,
    previous: date | None,
    currency: str,
    source_total: Decimal,
    previous_total: Decimal | None,
    difference: Decimal,
    other_currencies: pl.DataFrame,
    change_threshold: float = DEFAULT_CHANGE_THRESHOLD,
) -> list[Check]:
    """Every warning for one month's figures (empty when they are whole and reconciled)."""
    checks: list[Check] = []
    if difference != 0:
        checks.append(
            Check(
                "reconciliation",
                f"allocated + unallocated + idle differs from the source total by "
                f"{_money(difference, currency)}; run `roi attribute` again",
                difference,
            )
        )
    rejected = rejected_billing(con, month)
    for cur in sorted({c or currency for c in rejected["currency"].to_list()}):
        checks.append(_rejected_lines(rejected, cur, currency))
    others = warehouse.fetch_all(
        con,
        f"""SELECT target_table, count(DISTINCT (source_file, source_row))
            FROM ({OPEN_REJECTS}) r WHERE target_table <> 'cost_lines' GROUP BY 1 ORDER BY 1""",
    )
    for table, rows in others:
        checks.append(
            Check(
                "rejects",
                f"{rows} row(s) of {table} were rejected and are not loaded (table _rejects)",
            )
        )
    if other_currencies.height:
        checks.append(_other_currencies(other_currencies, currency, source_total))
    if previous is not None and previous_total:
        change = (source_total - previous_total) / previous_total
        if abs(change) > Decimal(str(change_threshold)):
            checks.append(
                Check(
                    "change",
                    f"effective cost moved {float(change):+.1%} against {previous:%B %Y} "
                    f"({_money(previous_total, currency)} → {_money(source_total, currency)}), "
                    f"more than the {change_threshold:.0%} threshold; check the bills (a "
                    "re-issued month, a new service, a missing export) before sending",
                    source_total - previous_total,
                )
            )
    return checks + _several_exports(con, month)
