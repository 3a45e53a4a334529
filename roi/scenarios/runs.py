"""Scenario runs (`scenario_runs`): every run stored with its command, inputs, seed and outputs.

A run's id is a digest of what determines its result: the command, its parameters, the seed,
the input figures it read from the warehouse (by content: `content_digest`, never the ids or
times of the loads and attribution runs that produced them) and roi's version. Running the same
scenario on the same data with the same seed gives the same id and byte-identical JSON (the row
is kept once, with the time it was first computed); anything that changes the result changes
the id, so a report that cites an id cites exactly one set of numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from roi import __version__, warehouse
from roi.context import Context
from roi.scenarios.baseline import Baseline, ScenarioError, model_config
from roi.warehouse import Connection


@dataclass(frozen=True)
class ScenarioRun:
    """One stored run and the table the CLI shows of it."""

    run_id: str
    command: str
    seed: int | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    table: pl.DataFrame
    files: list[Path] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        """What `--format json` prints: the id, the command, the seed, the inputs (as
        `scenario_runs` stores them: parameters and the figures read) and the outputs."""
        return {
            "run_id": self.run_id,
            "command": self.command,
            "seed": self.seed,
            "roi_version": __version__,
            "inputs": self.inputs,
            "outputs": self.outputs,
        }


# Figures in a run's digest carry 12 significant digits: beyond that, a sum's last bits depend
# on the order threads added its parts in, not on the inputs.
DIGITS = 12


def _rounded(value: float) -> float:
    return float(f"{value:.{DIGITS}g}")


def _plain(value: Any, digest: bool = False) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return _rounded(value) if digest else value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v, digest) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, digest) for v in value]
    return value


def canonical(value: Any) -> str:
    """Deterministic JSON for a digest (sorted keys, floats to 12 significant digits, dates as
    ISO text)."""
    return json.dumps(
        _plain(value, digest=True), sort_keys=True, separators=(",", ":"), allow_nan=False
    )


# The tables scenarios read, less their lineage columns (load and attribution ids, source
# files): two builds of the same inputs hold the same figures under different load ids.
READ_TABLES: dict[str, tuple[str, ...]] = {
    "model_roi": (),
    "model_costs": ("load_ids", "attribution_id"),
    "kpi_sensitivity": ("load_ids",),
    "llm_unit_costs": (),
    "model_metrics": ("source_file", "source_row", "_load_id"),
}


def content_digest(con: Connection) -> str:
    """A digest of the figures scenarios read from the warehouse, by content only (floats to
    12 significant digits)."""
    digest = hashlib.sha256()
    for table, lineage in READ_TABLES.items():
        columns = [
            f"printf('%.{DIGITS}g', \"{name}\")" if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
            for name, kind in warehouse.table_columns(con, table).items()
            if name not in lineage
        ]
        (text,) = warehouse.fetch_one(
            con,
            f"""SELECT md5(coalesce(string_agg(t::VARCHAR, chr(10) ORDER BY t::VARCHAR), ''))
                FROM (SELECT {", ".join(columns)} FROM {table}) t""",
        )
        digest.update(f"{table}:{text}\n".encode())
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Computed:
    """What a scenario computed: its inputs, outputs, main table and files written."""

    inputs: dict[str, Any]
    outputs: dict[str, Any]
    table: pl.DataFrame
    files: list[Path] = field(default_factory=list)


def run(
    ctx: Context, command: str, seed: int | None, compute: Callable[[Connection], Computed]
) -> ScenarioRun:
    """Compute a scenario on a read-only connection and store it (the writer lock held
    throughout, so the inputs cannot change under it)."""
    with ctx.writing():
        with ctx.reader() as con:
            result = compute(con)
        return record(ctx, command, seed, result)


def record(ctx: Context, command: str, seed: int | None, result: Computed) -> ScenarioRun:
    """Store the run (once per id) and return it; call it holding the writer lock."""
    inputs, outputs = result.inputs, result.outputs
    digest = hashlib.sha256(
        canonical(
            {"command": command, "seed": seed, "inputs": inputs, "version": __version__}
        ).encode("utf-8")
    ).hexdigest()
    run_id = f"scn-{digest[:16]}"
    outputs = _plain(outputs)
    with ctx.committing() as con:
        warehouse.execute(
            con,
            """INSERT OR IGNORE INTO scenario_runs
               (run_id, command, inputs, seed, outputs, roi_version, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [
                run_id,
                command,
                canonical(inputs),
                seed,
                canonical(outputs),
                __version__,
                datetime.now(UTC),
            ],
        )
    return ScenarioRun(run_id, command, seed, _plain(inputs), outputs, result.table, result.files)


def fingerprint(con: Connection, base: dict[str, Baseline]) -> dict[str, object]:
    """What the warehouse's answer depends on: the figures it read, by content (the same
    inputs built again, under new load and attribution ids, give the same run id)."""
    return {
        "warehouse_content": content_digest(con),
        "month": next(iter(base.values())).month if base else None,
        "baselines": {m: asdict(b) for m, b in base.items()},
    }


def chosen_models(ctx: Context, model: str | None, all_models: bool) -> list[str]:
    """The models a scenario covers: one, or every model that is not retired."""
    if model and all_models:
        raise ScenarioError("give a MODEL or --all, not both")
    if model:
        return [model_config(ctx.project, model).model_id]
    live = [m.model_id for m in ctx.project.models if m.stage != "retired"]
    if not live:
        raise ScenarioError("the project has no models that are not retired")
    return live
