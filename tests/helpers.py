"""Helpers shared by tests: warehouse snapshots, CLI subprocesses and checked narrowing of the
loosely typed values that queries, Polars aggregates and JSON-like documents return."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from roi import warehouse
from roi.config import ProjectConfig

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


def files_digest(path: Path) -> str:
    """A digest of a warehouse's bytes on disk: its file, write-ahead log and data folder (each
    file's name and content). Equal digests mean the same warehouse, byte for byte; a cheap
    first look before `snapshot`, which compares content and needs a query per table."""
    digest = hashlib.sha256()
    data = path.with_name(path.name + ".data")
    files = [path, path.with_name(path.name + ".wal")]
    files += sorted(p for p in data.rglob("*") if p.is_file()) if data.exists() else []
    for file in files:
        digest.update(str(file.relative_to(path.parent)).encode() + b"\0")
        digest.update(file.read_bytes() if file.exists() else b"(none)")
    return digest.hexdigest()


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


T = TypeVar("T")


def of_type(value: object, kind: type[T]) -> T:
    """`value`, checked to be a `kind` (a query cell, a Series' min or max, a document's field)."""
    assert isinstance(value, kind), f"expected a {kind.__name__}, got {value!r}"
    return value


def number(value: object) -> float:
    """`value`, checked to be an int or a float (not a bool, not None), unchanged."""
    assert isinstance(value, int | float) and not isinstance(value, bool), (
        f"expected a number, got {value!r}"
    )
    return value


def object_at(document: Mapping[str, object], key: str) -> dict[str, Any]:
    """A JSON-like document's object at `key` (e.g. a scenario's "portfolio")."""
    value = document[key]
    assert isinstance(value, dict), f"{key}: expected an object, got {value!r}"
    return value


def rows_at(document: Mapping[str, object], key: str) -> list[dict[str, Any]]:
    """A JSON-like document's list of objects at `key` (e.g. a scenario's "models")."""
    value = document[key]
    assert isinstance(value, list), f"{key}: expected a list, got {value!r}"
    assert all(isinstance(row, dict) for row in value), f"{key}: expected objects, got {value!r}"
    return value


def copy_loaded(project: ProjectConfig, target: Path) -> Path:
    """A writable copy of the loaded sample project at `target` (its warehouse and billing
    files, not the reports it wrote); `target`."""
    shutil.copytree(project.root, target, ignore=shutil.ignore_patterns("out"))
    return target


def copy_warehouse(source: Path, folder: Path) -> Path:
    """A copy of the warehouse file `source` and its billing files in `folder`; its path."""
    shutil.copy(source, folder / source.name)
    data = source.with_name(source.name + ".data")
    shutil.copytree(data, folder / data.name)
    return folder / source.name
