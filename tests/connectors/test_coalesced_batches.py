"""Small files' batches are checked together (`roi.loading.loader.coalesced`): every reject
still names its own file and row, and a key is a duplicate only within one file."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from roi.cli import cli
from roi.loading.loader import coalesced
from roi.loading.protocol import Batch


def _batch(file: str, rows: int, extra: str | None = None) -> Batch:
    frame = pl.DataFrame({"source_file": [file] * rows, "source_row": list(range(1, rows + 1))})
    return Batch(frame if extra is None else frame.with_columns(pl.lit("x").alias(extra)))


def test_small_batches_are_joined_up_to_the_limit_and_schemas_stay_apart() -> None:
    batches = [_batch("a", 3), _batch("b", 3), _batch("c", 3), _batch("d", 2, "other")]
    joined = list(coalesced(batches, rows=6))
    assert [b.frame.height for b in joined] == [6, 3, 2]
    assert joined[0].frame["source_file"].to_list() == ["a"] * 3 + ["b"] * 3
    assert "other" in joined[2].frame.columns


def _kpi_project(root: Path, files: dict[str, str]) -> Path:
    (root / "connectors").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "roi.toml").write_text('[project]\nname = "t"\ncurrency = "USD"\n')
    (root / "connectors/kpis.toml").write_text(
        'type = "kpi_csv"\npath = "data"\n', encoding="utf-8"
    )
    for name, text in files.items():
        (root / "data" / name).write_text(text, encoding="utf-8")
    return root


HEADER = "kpi,period_start,period_end,model_id,segment,value,unit\n"


def test_a_bad_row_in_each_of_two_small_files_names_the_first_and_counts_the_other(
    tmp_path: Path,
) -> None:
    files = {
        "a.csv": HEADER + "orders,2026-09-01,2026-09-30,m,,10,count\n"
        "orders,2026-10-01,2026-10-31,m,,ten,count\n",
        "b.csv": HEADER + "orders,2026-11-01,2026-11-30,m,,twelve,count\n",
    }
    root = _kpi_project(tmp_path / "p", files)
    result = CliRunner().invoke(cli, ["load", "--project", str(root), "--quiet"])
    assert result.exit_code == 1
    [line] = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
    assert "a.csv row 3 field value" in line and "1 in other files" in line
    assert not (root / "roi.duckdb").exists()  # nothing half-loaded


def test_the_same_key_in_two_files_is_no_duplicate_but_twice_in_one_file_is(
    tmp_path: Path,
) -> None:
    row = "orders,2026-09-01,2026-09-30,m,,10,count\n"
    root = _kpi_project(tmp_path / "p", {"a.csv": HEADER + row, "b.csv": HEADER + row})
    result = CliRunner().invoke(cli, ["load", "--project", str(root), "--quiet"])
    assert result.exit_code == 0, result.stderr
    clash = HEADER + row + row.replace(",10,", ",11,")
    root2 = _kpi_project(tmp_path / "q", {"a.csv": HEADER + row, "b.csv": clash})
    result = CliRunner().invoke(cli, ["load", "--project", str(root2), "--quiet"])
    assert result.exit_code == 1
    assert "b.csv row" in result.stderr and "a.csv" not in result.stderr


@pytest.mark.parametrize("rows", [1, 2])
def test_one_batch_passes_through_unchanged(rows: int) -> None:
    only = _batch("a", rows)
    [out] = list(coalesced([only]))
    assert out is only
