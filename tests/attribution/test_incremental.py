"""Incremental attribution: a run recomputes only the months whose inputs or rules changed."""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from roi import pipeline, warehouse
from roi.config import ProjectConfig, load_project
from roi.context import Context
from tests.helpers import of_type

SEPTEMBER = Path("sample_data/billing/aws/focus-export/data/BILLING_PERIOD=2026-09")
TABLES = ("allocated_costs", "unallocated_costs", "allocation_bases", "attribution_conflicts")


def _tables(path: Path) -> dict[str, pl.DataFrame]:
    with warehouse.open_warehouse(path, read_only=True) as con:
        return {t: warehouse.fetch_frame(con, f"SELECT * FROM {t}").sort(pl.all()) for t in TABLES}


def _reissue_september(root: Path, extra: Decimal) -> None:
    """AWS re-issues September: a newer delivery with one line's cost raised by `extra`."""
    folder = root / SEPTEMBER
    (delivery,) = sorted(folder.iterdir())
    target = folder / "20261020T041209Z"
    target.mkdir()
    for part in sorted(delivery.iterdir()):
        text = gzip.decompress(part.read_bytes()).decode()
        if part.name.endswith("00001.csv.gz"):
            header, first, *rest = text.split("\n")
            cells = first.split(",")
            index = header.split(",").index("EffectiveCost")
            cells[index] = str(Decimal(cells[index]) + extra)
            text = "\n".join([header, ",".join(cells), *rest])
        (target / part.name).write_bytes(gzip.compress(text.encode()))


def _without_ids(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop("attribution_id").sort(pl.all().exclude("load_ids"))


@pytest.mark.slow
def test_a_reissued_month_recomputes_only_itself(project: ProjectConfig) -> None:
    path = project.warehouse_path
    pipeline.load(Context(project, path))
    first = pipeline.attribute(Context(project, path))
    months = set(first.months)
    assert first.unchanged_months == 0 and len(months) >= 24

    again = pipeline.attribute(Context(project, path))
    assert again.months == [] and again.unchanged_months == len(months)

    before = _tables(path)
    _reissue_september(project.root, Decimal("100"))
    pipeline.load(Context(project, path), names=["aws_focus"])
    result = pipeline.attribute(Context(project, path))
    assert result.months == [date(2026, 9, 1)]
    assert result.unchanged_months == len(months) - 1

    after = _tables(path)
    allocated = after["allocated_costs"]
    old = before["allocated_costs"]
    # Other months are the rows written by the first run, untouched.
    others = pl.col("month") != date(2026, 9, 1)
    assert allocated.filter(others).equals(old.filter(others))
    september = pl.col("month") == date(2026, 9, 1)
    assert set(allocated.filter(september)["attribution_id"]) == {result.attribution_id}
    added = of_type(allocated.filter(september)["amount"].sum(), Decimal) - of_type(
        old.filter(september)["amount"].sum(), Decimal
    )
    assert added == Decimal("100")

    # The incremental result equals a full recomputation.
    pipeline.attribute(Context(project, path), full=True)
    full = _tables(path)
    for table in TABLES:
        assert _without_ids(full[table]).equals(_without_ids(after[table])), table


@pytest.mark.slow
def test_changed_rules_recompute_every_month(project: ProjectConfig) -> None:
    path = project.warehouse_path
    pipeline.load(Context(project, path), names=["aws_focus", "azure_focus"])
    months = len(pipeline.attribute(Context(project, path)).months)
    pool = project.root / "pools" / "ml-platform.toml"
    even = 'basis = "even"\nmodels = ["churn-prediction", "fraud-detection"]'
    pool.write_text(pool.read_text().replace('basis = "direct_cost"', even))
    changed = load_project(project.root)
    result = pipeline.attribute(Context(changed, path))
    assert len(result.months) == months and result.unchanged_months == 0
    with warehouse.open_warehouse(path, read_only=True) as con:
        targets = warehouse.fetch_all(
            con,
            "SELECT DISTINCT model_id FROM allocated_costs WHERE rule_id = 'pool:ml-platform'",
        )
    assert {t[0] for t in targets} <= {"churn-prediction", "fraud-detection"}


@pytest.mark.slow
def test_one_month_only_and_months_whose_lines_are_gone(project: ProjectConfig) -> None:
    path = project.warehouse_path
    pipeline.load(Context(project, path), names=["aws_focus"])
    pipeline.attribute(Context(project, path))
    one = pipeline.attribute(Context(project, path), month=date(2026, 10, 1))
    assert one.months == [date(2026, 10, 1)]
    # A month whose billing lines were removed from the warehouse loses its attribution.
    with warehouse.open_warehouse(path) as con:
        warehouse.execute(
            con,
            "DELETE FROM _attributed_months WHERE month = ?",
            [date(2026, 10, 1)],
        )
        warehouse.execute(
            con,
            "INSERT INTO _attributed_months VALUES (?, 'x', 'y', 'z')",
            [date(2019, 1, 1)],
        )
    result = pipeline.attribute(Context(project, path))
    assert result.months == [date(2026, 10, 1)]
    with warehouse.open_warehouse(path, read_only=True) as con:
        stored = {r[0] for r in warehouse.fetch_all(con, "SELECT month FROM _attributed_months")}
    assert date(2019, 1, 1) not in stored and date(2026, 10, 1) in stored


def test_a_moved_project_is_still_up_to_date(project: ProjectConfig, tmp_path: Path) -> None:
    path = project.warehouse_path
    pipeline.load(Context(project, path), names=["aws_focus"])
    pipeline.attribute(Context(project, path))
    moved = tmp_path / "elsewhere"
    shutil.copytree(project.root, moved, ignore=shutil.ignore_patterns("*.duckdb*"))
    again = pipeline.attribute(Context(load_project(moved), path))
    assert again.months == [] and again.unchanged_months > 0
