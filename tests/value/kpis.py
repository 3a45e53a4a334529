"""Small KPI and metric tables in a real warehouse file, for value-method tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from roi import warehouse
from roi.value.inputs import ValueInputs

MODEL_FILE = Path("models/m.toml")


def month(i: int) -> date:
    """The first day of the i-th month from January 2025."""
    return date(2025 + i // 12, i % 12 + 1, 1)


def kpi(name: str, i: int, value: float, **extra: object) -> dict[str, object]:
    """One `kpi_values` row for month i (segment `all`, model `m`, load `L1` unless given)."""
    return {
        "kpi": name,
        "period_start": month(i),
        "period_end": month(i + 1),
        "value": value,
        **extra,
    }


def arm(
    experiment: str, name: str, i: int, segment: str, mean: float, sd: float, n: int
) -> dict[str, object]:
    """One experiment arm's row for month i."""
    return kpi(name, i, mean, experiment_id=experiment, segment=segment, std_dev=sd, n=n)


def warehouse_with(
    path: Path,
    kpis: list[dict[str, object]],
    metrics: list[tuple[int, float]] | None = None,
) -> warehouse.Connection:
    """A warehouse file holding the KPI rows (and model `m`'s monthly `auc` metric)."""
    con = warehouse.connect(path)
    frame = pl.DataFrame(
        [
            {
                "model_id": "m",
                "segment": "all",
                "experiment_id": None,
                "unit": None,
                "source_file": "t.csv",
                "source_row": i,
                "_load_id": "L1",
                **r,
            }
            for i, r in enumerate(kpis)
        ],
        infer_schema_length=None,
    )
    with warehouse.registered(con, "_k", frame):
        warehouse.execute(con, "INSERT INTO kpi_values BY NAME SELECT * FROM _k")
    if metrics:
        rows = pl.DataFrame(
            [
                {
                    "model_id": "m",
                    "metric": "auc",
                    "ts": datetime.combine(month(i), datetime.min.time(), UTC),
                    "value": v,
                    "model_version": "v1",
                    "source_file": "m.csv",
                    "source_row": j,
                    "_load_id": "M1",
                }
                for j, (i, v) in enumerate(metrics)
            ]
        )
        with warehouse.registered(con, "_m", rows):
            warehouse.execute(con, "INSERT INTO model_metrics BY NAME SELECT * FROM _m")
    return con


def inputs(con: warehouse.Connection) -> ValueInputs:
    """The value inputs of model `m`."""
    return ValueInputs(con, "m", MODEL_FILE)
