"""Terminal tables fit the terminal: no line wider than COLUMNS, money to the cent with
thousands separators, ROI and shares as percentages, and a line naming the columns left out."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from roi.cli.output import format_table
from roi.config import ProjectConfig
from tests.cli.conftest import invoke

SAMPLE_COMMANDS = [
    ["portfolio"],
    ["portfolio", "--month", "2025-03"],
    ["reconcile"],
    ["reconcile", "--month", "2026-10"],
    ["explain", "fraud-detection", "--month", "2026-10"],
    ["explain", "__unallocated__", "--month", "2026-10"],
    ["status"],
    ["query", "SELECT * FROM model_roi ORDER BY month DESC, model_id LIMIT 20"],
    ["query", "SELECT * FROM unallocated_costs LIMIT 20"],
    ["models", "suggest"],
]
FOCUS_COMMANDS = [
    ["portfolio"],
    ["reconcile"],
    ["status"],
    ["attribute"],
    ["load"],
    ["models", "suggest"],
    ["query", "SELECT * FROM cost_lines LIMIT 10"],
    ["scenario", "whatif", "--set", "traffic=2"],
    ["scenario", "decay", "--all"],
    ["scenario", "forecast"],
]


def _fits(root: Path, command: list[str], width: int) -> str:
    code, out, err = invoke(*command, "--project", str(root), "-q", env={"COLUMNS": str(width)})
    assert code == 0, (command, err)
    too_wide = [line for line in out.splitlines() if len(line) > width]
    assert too_wide == [], (command, too_wide)
    return out


@pytest.mark.parametrize("command", SAMPLE_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("width", [80, 60])
def test_every_table_of_the_sample_fits_the_terminal(
    loaded_project: ProjectConfig, command: list[str], width: int
) -> None:
    out = _fits(loaded_project.root, command, width)
    assert out.strip()


@pytest.mark.parametrize("command", FOCUS_COMMANDS, ids=" ".join)
def test_every_table_of_a_small_project_fits_80_columns(
    focus_project: Path, command: list[str]
) -> None:
    _fits(focus_project, command, 80)


def test_money_roi_and_shares_read_as_finance(loaded_project: ProjectConfig) -> None:
    code, out, _ = invoke(
        "portfolio", "--project", str(loaded_project.root), "-q", env={"COLUMNS": "250"}
    )
    assert code == 0
    churn = next(line for line in out.splitlines() if line.startswith("churn-prediction"))
    # cost, value and net of churn-prediction in October 2026, and its ROI as a percentage
    assert "364.22" in churn and "6,156.48" in churn and "5,792.25" in churn
    assert "1,590%" in churn and "15.9" not in churn
    code, out, _ = invoke(
        "models", "suggest", "--project", str(loaded_project.root), env={"COLUMNS": "250"}
    )
    assert code == 0
    top = out.splitlines()[2]
    assert "51,055.10" in top and "2,127.30" in top and "8.1%" in top
    assert "0000" not in out


def test_columns_left_out_are_named_and_prose_wraps() -> None:
    frame = pl.DataFrame(
        {
            "model_id": ["a-model", "TOTAL"],
            "cost": [1234.5, 99999.999],
            "roi": [0.5, -1.0],
            "flags": ["negative ROI, cost rising faster than value", ""],
            "owner_email_address": ["someone.with.a.long.name@example.com", None],
            "currency": ["USD", "USD"],
        }
    )
    text = format_table(frame, width=50)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 50
    assert lines[2].startswith("a-model") and "1,234.50" in lines[2] and "50%" in lines[2]
    assert any("100,000.00" in line and "-100%" in line for line in lines)
    assert "(columns not shown: currency, owner_email_address; use --format csv or json" in (
        " ".join(lines)
    )
    assert "negative ROI," in text and "faster than" in text  # wrapped over lines, not cut
    assert format_table(frame, width=300).count("\n") == 3  # room for all: one line each
