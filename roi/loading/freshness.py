"""How fresh each source is: the last day the rows of each connector's latest loads cover."""

from __future__ import annotations

import polars as pl

from roi import warehouse

# Per target table, the last day its data covers (period ends are exclusive).
_FRESHNESS = {
    "cost_lines": "max(t.charge_period_end) - INTERVAL 1 SECOND",
    "inference_usage": "max(t.ts)",
    "gpu_usage": "max(t.interval_end) - INTERVAL 1 SECOND",
    "kpi_values": "max(t.period_end) - INTERVAL 1 DAY",
    "model_metrics": "max(t.ts)",
    "provider_invoices": "max(t.period_end) - INTERVAL 1 SECOND",
    "inference_costs": "max(t.window_end) - INTERVAL 1 SECOND",
}


def source_coverage(con: warehouse.Connection) -> pl.DataFrame:
    """Per connector: the last day its loaded rows cover."""
    parts = []
    for table, last in _FRESHNESS.items():
        parts.append(
            f"""SELECT l.connector, ({last})::DATE::VARCHAR AS data_through
                FROM {table} t JOIN _loads l ON l.load_id = t._load_id GROUP BY l.connector"""
        )
    frame = warehouse.fetch_frame(con, " UNION ALL ".join(parts))
    return frame.group_by("connector").agg(pl.col("data_through").max())
