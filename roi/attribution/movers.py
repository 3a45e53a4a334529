"""The month's largest movers and why: the models (or unallocated, idle) whose cost changed most
from the attributed month before, each with the two largest effects `roi explain` finds and the
item that moved most (the summary of the monthly report and of the executive pack).

Explaining a change re-attributes both months with quantities: most of what reading a report
cost. The monthly job (`roi run`) explains the latest month once and keeps the result
(`roi.reuse`); a report reads it when it was made from the warehouse and definitions as they
are now and explains the month itself otherwise (another month, another currency, or after a
`roi attribute` that the job did not follow).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date

import polars as pl

from roi import warehouse
from roi.config import ProjectConfig
from roi.context import Context
from roi.reuse import inputs_key, remember, reusable
from roi.warehouse import Connection
from roi.warehouse.months import choose_month, data_months

COUNT = 3  # movers the summary names
EFFECTS = 2  # effects named for each


@dataclass(frozen=True)
class MovedCost:
    """A model whose cost moved between two attributed months, and what moved it."""

    model_id: str
    before: float
    after: float
    effects: tuple[tuple[str, float], ...]  # the largest non-zero effects, largest first
    item: str | None  # the service, resource or item that moved most
    failure: str | None = None  # why there is no breakdown (the error's first line)


def previous_attributed(con: Connection, month: date) -> date | None:
    """The attributed month before `month` (None for the first)."""
    found = warehouse.fetch_one(
        con, "SELECT max(month) FROM allocated_costs WHERE month < ?", [month]
    )[0]
    return None if found is None else found


def largest_changes(
    con: Connection, month: date, previous: date, currency: str, count: int = COUNT
) -> list[tuple[str, float, float]]:
    """(model id, cost before, cost after) of the `count` largest changes over half a cent,
    largest first (ties by model id)."""
    rows = warehouse.fetch_all(
        con,
        """SELECT model_id,
                  coalesce(sum(amount) FILTER (WHERE month = ?), 0)::DOUBLE AS before,
                  coalesce(sum(amount) FILTER (WHERE month = ?), 0)::DOUBLE AS after
           FROM allocated_costs WHERE month IN (?, ?) AND currency = ? GROUP BY model_id""",
        [previous, month, previous, month, currency],
    )
    moved = [(str(m), b, a) for m, b, a in rows if abs(a - b) > 0.005]
    return sorted(moved, key=lambda r: (-abs(r[2] - r[1]), r[0]))[:count]


def explain_movers(
    con: Connection, project: ProjectConfig, month: date, previous: date, currency: str
) -> list[MovedCost]:
    """The month's largest movers, each explained (a failed explanation is a `failure`, never
    an error: the summary names the mover all the same)."""
    from roi.attribution.explain import explain  # the attribution engine: only when needed

    ledgers: dict[date, pl.DataFrame] = {}  # the two months, folded once for every mover
    found = []
    for model_id, before, after in largest_changes(con, month, previous, currency):
        try:
            why = explain(con, project, model_id, month, 1, ledgers)
        except Exception as exc:  # an explanation is a nicety; never let it stop the report
            found.append(MovedCost(model_id, before, after, (), None, str(exc).splitlines()[0]))
            continue
        effects = (
            why.effects.filter(pl.col("amount") != 0)
            .with_columns(size=pl.col("amount").abs())
            .sort("size", descending=True)
            .head(EFFECTS)
        )
        item = None
        if why.movers.height:
            top = why.movers.row(0, named=True)
            item = top.get("resource_id") or top.get("service_name") or top.get("item")
        named = tuple((str(r["effect"]), float(r["amount"])) for r in effects.iter_rows(named=True))
        found.append(MovedCost(model_id, before, after, named, item))
    return found


def _product(month: date, currency: str) -> str:
    return f"movers:{month.isoformat()}:{currency}"


def _key(
    con: Connection, project: ProjectConfig, month: date, previous: date, currency: str
) -> str:
    return inputs_key(con, project, "movers", month, previous, currency)


def stored_movers(
    con: Connection, project: ProjectConfig, month: date, previous: date, currency: str
) -> list[MovedCost] | None:
    """The movers the monthly job kept for the month, when made from the warehouse and
    definitions as they are now; else None."""
    kept = reusable(con, _product(month, currency), _key(con, project, month, previous, currency))
    if not kept:
        return None
    return [
        MovedCost(
            m["model_id"],
            m["before"],
            m["after"],
            tuple((str(e), float(a)) for e, a in m["effects"]),
            m["item"],
            m["failure"],
        )
        for m in json.loads(kept)
    ]


def keep_movers(ctx: Context, month: date | None = None) -> None:
    """Explain the report month's movers (default: the latest month) in the project's
    currency once, and keep them for the reports (nothing to do when they are current)."""
    project, currency = ctx.project, ctx.project.project.currency
    with ctx.reader() as con:
        if month is None and not data_months(con, project.attribution.month_basis):
            return  # no billing yet: the report says so
        chosen = choose_month(con, month, project.attribution.month_basis)
        previous = previous_attributed(con, chosen)
        if previous is None:
            return
        key = _key(con, project, chosen, previous, currency)
        if reusable(con, _product(chosen, currency), key) is not None:
            return
        found = explain_movers(con, project, chosen, previous, currency)
    if any(m.failure is not None for m in found):
        return  # an explanation failed (memory, I/O?): the report tries again, nothing kept
    with ctx.writing(), ctx.committing() as con:
        remember(con, _product(chosen, currency), key, json.dumps([asdict(m) for m in found]))


__all__ = [
    "MovedCost",
    "explain_movers",
    "keep_movers",
    "largest_changes",
    "previous_attributed",
    "stored_movers",
]
