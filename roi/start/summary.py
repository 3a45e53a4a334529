"""What a connector's data holds, in a few lines: for billing, the months, providers, currencies
and tag keys with the share of cost each covers; for other sources, rows and time span."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from roi import warehouse
from roi.loading.loader import LoadResult
from roi.warehouse import Connection

# Each table's time column, for the span a source covers.
_TIME = {
    "inference_usage": "ts",
    "gpu_usage": "interval_start",
    "kpi_values": "period_start",
    "model_metrics": "ts",
    "provider_invoices": "period_start",
    "inference_costs": "window_start",
}


@dataclass(frozen=True)
class TagKey:
    """A tag key of the billing lines: how many values it takes and how much cost carries it."""

    key: str
    values: int
    cost: Decimal
    share: float  # of the connector's effective cost


@dataclass(frozen=True)
class Summary:
    """What one connector's data holds."""

    table: str
    rows: int
    first: str | None
    last: str | None
    providers: list[str] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)  # currency → effective cost
    tag_keys: list[TagKey] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The summary as sentences for the terminal."""
        span = f"{self.first} to {self.last}" if self.first else "no dates"
        out = [f"{self.rows:,} row(s) in {self.table}, {span}"]
        if self.providers:
            out.append("providers: " + ", ".join(self.providers))
        for currency, total in self.totals.items():
            out.append(f"effective cost: {total:,.2f} {currency}")
        for tag in self.tag_keys[:12]:
            out.append(f"tag {tag.key!r}: {tag.values} value(s) on {tag.share:.0%} of the cost")
        return out

    def to_document(self) -> dict[str, Any]:
        """JSON-ready (money as decimal text)."""
        return {
            "table": self.table,
            "rows": self.rows,
            "first": self.first,
            "last": self.last,
            "providers": self.providers,
            "effective_cost": {c: str(t) for c, t in self.totals.items()},
            "tag_keys": [
                {"key": t.key, "values": t.values, "cost": str(t.cost), "share": t.share}
                for t in self.tag_keys
            ],
        }


# The loads of one connector (its name the query's parameter).
_LOADS = "(SELECT load_id FROM _loads WHERE connector = ? AND status = 'completed')"


def summarise(con: Connection, result: LoadResult) -> Summary:
    """What the connector of `result` has loaded, all loads together."""
    if result.table != "cost_lines":
        column = _TIME.get(result.table)
        span = (
            f"min({column})::DATE::VARCHAR, max({column})::DATE::VARCHAR"
            if column
            else "NULL, NULL"
        )
        rows, first, last = warehouse.fetch_one(
            con,
            f"SELECT count(*), {span} FROM {result.table} WHERE _load_id IN {_LOADS}",
            [result.connector],
        )
        return Summary(result.table, int(rows), first, last)
    where = f"_load_id IN {_LOADS}"
    rows, first, last = warehouse.fetch_one(
        con,
        f"""SELECT count(*), strftime(min(billing_period_start), '%Y-%m'),
                   strftime(max(billing_period_start), '%Y-%m') FROM cost_lines WHERE {where}""",
        [result.connector],
    )
    providers = [
        str(r[0])
        for r in warehouse.fetch_all(
            con,
            f"SELECT DISTINCT provider FROM cost_lines WHERE {where} ORDER BY 1",
            [result.connector],
        )
    ]
    totals = {
        str(c): Decimal(t)
        for c, t in warehouse.fetch_all(
            con,
            f"""SELECT billing_currency, sum(effective_cost) FROM cost_lines WHERE {where}
                GROUP BY 1 ORDER BY 2 DESC""",
            [result.connector],
        )
    }
    return Summary(
        "cost_lines",
        int(rows),
        first,
        last,
        providers,
        totals,
        tag_keys(con, where, [result.connector]),
    )


def tag_keys(con: Connection, where: str, params: list[object]) -> list[TagKey]:
    """The billing lines' tag keys (lower-cased), by the share of cost that carries them."""
    rows = warehouse.fetch_all(
        con,
        f"""WITH lines AS (SELECT tags, effective_cost FROM cost_lines WHERE {where}),
                total AS (SELECT sum(abs(effective_cost)) AS t FROM lines),
                keyed AS (SELECT unnest(map_keys(tags)) AS key, tags, effective_cost FROM lines)
            SELECT key, count(DISTINCT tags[key]), sum(effective_cost),
                   coalesce(sum(abs(effective_cost)) / nullif(any_value(t), 0), 0)
            FROM keyed, total GROUP BY key ORDER BY 4 DESC, 1""",
        params,
    )
    return [TagKey(str(k), int(n), Decimal(c), float(s)) for k, n, c, s in rows]
