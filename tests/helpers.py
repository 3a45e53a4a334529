"""Helpers shared by tests: warehouse snapshots and CLI subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from roi import warehouse

TABLES = (
    "cost_lines",
    "_cost_files",
    "inference_usage",
    "gpu_usage",
    "kpi_values",
    "model_metrics",
    "_loads",
    "_state",
    "_rejects",
    "allocated_costs",
    "attribution_conflicts",
    "unallocated_costs",
)
# Tables one attribution run writes together (`roi attribute`).
ATTRIBUTION_TABLES = (
    "allocated_costs",
    "attribution_conflicts",
    "unallocated_costs",
    "allocation_bases",
    "amortized_costs",
    "usage_costs",
    "_attributions",
    "_attributed_months",
    "model_value",
    "model_roi",
    "kpi_sensitivity",
    "llm_unit_costs",
)


def snapshot(path: Path, tables: tuple[str, ...] = TABLES) -> dict[str, tuple[Any, ...]]:
    """Row count and an order-independent content hash of every data and bookkeeping table."""
    with warehouse.open_warehouse(path, read_only=True) as con:
        return {
            table: warehouse.fetch_one(
                con, f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {table} t"
            )
            for table in tables
        }


def roi_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the installed `roi` entry point in a subprocess (python -m roi)."""
    return subprocess.run(
        [sys.executable, "-m", "roi", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
