"""A standing scenario asked for by hand with the monthly job's options is kept as the monthly
run: `roi run` reuses it instead of computing it again; other options are not kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from roi import warehouse
from roi.config import ProjectConfig, load_project
from roi.context import Context
from roi.progress import SilentProgress
from roi.scenarios import kinds, run_scenario
from roi.scenarios.decay import DecayOptions
from roi.scenarios.standing import keep_standing
from tests.helpers import copy_loaded


def _kept(root: Path) -> dict[str, str]:
    with warehouse.open_warehouse(root / "roi.duckdb", read_only=True) as con:
        rows = warehouse.fetch_all(
            con, "SELECT product, result FROM _reuse WHERE product LIKE 'scenario:%'"
        )
    return {str(product): str(result) for product, result in rows}


@pytest.mark.slow
def test_a_run_with_the_monthly_options_is_the_monthly_run(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    root = copy_loaded(loaded_project, tmp_path / "project")
    ctx = Context(load_project(root))
    with warehouse.open_warehouse(root / "roi.duckdb") as con:  # as if the job never ran
        con.execute("DELETE FROM _reuse WHERE product LIKE 'scenario:%'")
    assert DecayOptions(all_models=True) == kinds()["decay"].monthly(ctx.project)

    one = run_scenario(ctx, "decay", DecayOptions(model="fraud-detection"))
    assert _kept(root) == {}  # not the monthly options: not kept
    monthly = run_scenario(ctx, "decay", DecayOptions(all_models=True))
    assert monthly.run_id != one.run_id
    assert _kept(root) == {"scenario:decay": monthly.run_id}

    said = Said()
    ids = keep_standing(Context(ctx.project, progress=said))
    assert monthly.run_id in ids
    assert f"scenario decay: inputs unchanged, reused run {monthly.run_id}" in said.lines
    assert not any(line.startswith("scenario failure: inputs unchanged") for line in said.lines)


class Said(SilentProgress):
    """A progress that keeps what it is told."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)
