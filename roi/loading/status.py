"""What the warehouse holds: loads and freshness per source, row counts, the last attribution,
and billing periods that more than one export holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from roi import warehouse
from roi.documents import records
from roi.loading.freshness import source_coverage
from roi.warehouse import Connection


@dataclass(frozen=True)
class Status:
    """Loads, freshness and row counts of a warehouse."""

    warehouse: Path
    schema_version: int
    tables: pl.DataFrame
    sources: pl.DataFrame
    last_attribution: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)
    restatements: pl.DataFrame = field(default_factory=pl.DataFrame)

    def to_document(self) -> dict[str, Any]:
        """The status as JSON-ready data (`roi status --format json`)."""
        return {
            "warehouse": str(self.warehouse),
            "schema_version": self.schema_version,
            "sources": records(self.sources),
            "tables": dict(zip(self.tables["table"], self.tables["rows"], strict=True)),
            "last_attribution": self.last_attribution,
            "warnings": self.warnings,
            "restatements": records(self.restatements),
        }


def read_status(con: Connection, warehouse_path: Path) -> Status:
    """Row counts per table and, per connector, its last load and the data it covers."""
    counts = warehouse.table_row_counts(con)
    tables = pl.DataFrame(
        {"table": list(counts), "rows": list(counts.values())},
        schema={"table": pl.String, "rows": pl.Int64},
    )
    sources = warehouse.fetch_frame(
        con,
        """SELECT s.connector, l.connector_type AS type, l.target_table AS "table",
                  l.finished_at AS last_load_at, s.load_id AS last_load_id,
                  (SELECT count(*) FROM _loads a WHERE a.connector = s.connector) AS loads,
                  (SELECT sum(rows_loaded) FROM _loads a WHERE a.connector = s.connector)
                      AS rows_loaded,
                  (SELECT sum(rows_rejected) FROM _loads a WHERE a.connector = s.connector)
                      AS rows_rejected
           FROM _state s JOIN _loads l ON l.load_id = s.load_id
           ORDER BY s.connector""",
    )
    coverage = source_coverage(con)
    sources = sources.join(coverage, on="connector", how="left")
    last = warehouse.fetch_all(
        con,
        "SELECT attribution_id, finished_at, months, cost_lines FROM _attributions "
        "ORDER BY finished_at DESC LIMIT 1",
    )
    conflicts = int(warehouse.fetch_one(con, "SELECT count(*) FROM attribution_conflicts")[0])
    version = warehouse.schema_version(con)
    warnings = overlapping_exports(con)
    last_attribution = (
        {
            "attribution_id": last[0][0],
            "finished_at": str(last[0][1]),
            "cost_lines": last[0][3],
            "conflicts": conflicts,
        }
        if last
        else None
    )
    return Status(
        warehouse_path, version, tables, sources, last_attribution, warnings, restatements(con)
    )


def restatements(con: Connection, limit: int = 50) -> pl.DataFrame:
    """The latest values a load changed for a key the warehouse already held (newest first):
    which connector, table, key and column, the old and the new value."""
    return warehouse.fetch_frame(
        con,
        """SELECT l.connector, r.target_table AS "table", r."key", r."column",
                  r.old_value, r.new_value, l.finished_at AS restated_at, r.load_id
           FROM _restatements r JOIN _loads l USING (load_id)
           ORDER BY l.finished_at DESC, r."key" LIMIT ?""",
        [limit],
    )


def overlapping_exports(con: warehouse.Connection) -> list[str]:
    """One warning per billing period of an account that more than one export holds.

    The loader already refused exports that bill the same charges; what is left counts twice
    only if the exports were cut another way (by granularity, say), so a person should look.
    """
    rows = warehouse.fetch_all(
        con,
        """WITH e AS (SELECT provider, billing_account_id, billing_period_start, export,
                             count(*) AS lines
                      FROM cost_lines GROUP BY ALL)
           SELECT provider, billing_account_id, strftime(billing_period_start, '%Y-%m'),
                  count(*), string_agg(export || ': ' || lines || ' line(s)', ', ' ORDER BY export)
           FROM e GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL""",
    )
    return [
        f"{provider} account {account} billing period {month} has {n} exports ({detail}); "
        "both count: check that they bill different charges"
        for provider, account, month, n, detail in rows
    ]
