"""One default month for every command (the latest month with billing data in cost_lines), and
a month outside the data is an error naming the valid range."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.cli.conftest import FOCUS_SAMPLE, invoke
from tests.conftest import shared_file


def _billing_months(root: Path) -> list[date]:
    """The months of the billing lines, read independently of roi (duckdb on the file)."""
    con = duckdb.connect(str(root / "roi.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT DISTINCT date_trunc('month', billing_period_start)::DATE FROM _cost_files "
            "WHERE superseded_by IS NULL ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def test_every_command_defaults_to_the_latest_month_with_billing_data(
    focus_project: Path, tmp_path: Path
) -> None:
    months = _billing_months(focus_project)
    assert months == [date(2024, 9, 1), date(2024, 10, 1)]  # 2024-10: five Oracle lines at 0
    latest = f"{months[-1]:%Y-%m}"
    root = str(focus_project)
    code, out, err = invoke("portfolio", "--project", root, "--format", "json")
    assert code == 0, err
    assert {row["month"] for row in json.loads(out)} == {months[-1].isoformat()}
    code, out, err = invoke(
        "export", "excel", "--project", root, "--out", str(tmp_path), "--format", "json", "-q"
    )
    assert code == 0, err
    assert [Path(r["output"]).name for r in json.loads(out)] == [f"executive_pack_{latest}.xlsx"]
    code, out, err = invoke(
        "report", "--project", root, "--out", str(tmp_path), "--format", "json", "-q"
    )
    assert code == 0, err
    assert f"monthly_finance_{latest}.html" in {Path(r["output"]).name for r in json.loads(out)}
    code, out, err = invoke(
        "scenario", "whatif", "--set", "traffic=2", "--project", root, "--format", "json", "-q"
    )
    assert code == 0, err
    assert json.loads(out)["inputs"]["month"] == months[-1].isoformat()


def test_every_month_option_states_the_rule_in_its_help() -> None:
    for command in (
        ["portfolio"],
        ["report"],
        ["run"],
        ["export", "excel"],
        ["scenario", "whatif"],
        ["scenario", "sensitivity"],
    ):
        code, out, _ = invoke(*command, "--help")
        assert code == 0
        assert "latest month with billing data in" in " ".join(out.split()), command


@pytest.mark.parametrize("month", ["2030-01", "2024-08", "2019-12"])
@pytest.mark.parametrize(
    "command",
    [
        ["portfolio"],
        ["report"],
        ["export", "excel"],
        ["reconcile"],
        ["attribute"],
        ["explain", "brightpathmatrix"],
        ["scenario", "whatif", "--set", "traffic=2"],
        ["scenario", "sensitivity", "brightpathmatrix"],
    ],
    ids=lambda c: " ".join(c) if isinstance(c, list) else c,
)
def test_a_month_outside_the_data_is_one_error_naming_the_range(
    focus_project: Path, command: list[str], month: str
) -> None:
    code, out, err = invoke(*command, "--month", month, "--project", str(focus_project), "-q")
    assert (code, out) == (1, "")
    assert err == (
        f"Error: --month {month} is outside the data: choose a month from 2024-09 to 2024-10\n"
    )


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["failure", "--all", "--draws", "0"], "--draws 0 must be from 1,000 to 10,000,000"),
        (["failure", "--all", "--draws", "-5"], "--draws -5 must be from 1,000 to 10,000,000"),
        (["retrain", "brightpathmatrix", "--draws", "0"], "--draws 0 must be from 100 to"),
        (["decay", "--all", "--max-lags", "-1"], "--max-lags -1 must be from 0 to 52"),
        (["forecast", "--months", "0"], "--months 0 must be from 1 to 36"),
    ],
)
def test_impossible_counts_are_one_error_naming_the_range(
    focus_project: Path, command: list[str], message: str
) -> None:
    code, out, err = invoke("scenario", *command, "--project", str(focus_project), "-q")
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("Error: ") and message in line


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["explain", "brightpathmatrix", "--month", "2024-10", "--top", "0"], "--top 0 must be"),
        (["models", "suggest", "--top", "-3"], "--top -3 must be from 1 to 10,000"),
        (["sample", "--rows", "0"], "--rows 0 must be from 1 to 1,000,000,000"),
        (["sample", "--rows", "10", "--seed", "-1"], "--seed -1 must be from 0 to 4,294,967,295"),
        (["scenario", "failure", "--all", "--seed", "-1"], "--seed -1 must be from 0 to"),
    ],
)
def test_impossible_counts_of_other_commands_too(
    focus_project: Path, command: list[str], message: str
) -> None:
    code, out, err = invoke(*command, "--project", str(focus_project), "-q")
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("Error: ") and message in line


def test_ingest_outside_a_project_says_how_to_proceed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "k.csv"
    data.write_text("kpi,period_start,period_end,value\nk,2026-10-01,2026-11-01,1\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("ingest", "kpi_csv", "k.csv")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"Error: no roi.toml in {tmp_path.resolve()}")
    assert "roi init" in err and "--warehouse PATH" in err
    assert not (tmp_path / "roi.duckdb").exists()
    # --warehouse works the same for ingest, status and query.
    code, out, err = invoke("ingest", "kpi_csv", "k.csv", "--warehouse", "w.duckdb", "-q")
    assert code == 0, err
    code, out, err = invoke("status", "--warehouse", "w.duckdb", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["tables"]["kpi_values"] == 1
    code, out, err = invoke(
        "query",
        "SELECT count(*) AS n FROM kpi_values",
        "--warehouse",
        "w.duckdb",
        "--format",
        "json",
    )
    assert (code, json.loads(out)) == (0, [{"n": 1}])


def test_billing_data_not_yet_attributed_says_to_attribute(tmp_path: Path) -> None:
    data = shared_file(FOCUS_SAMPLE)
    root = str(tmp_path / "fresh")
    assert invoke("init", root, "-q")[0] == 0
    assert invoke("connect", str(data), "--project", root, "-q")[0] == 0
    code, out, err = invoke("portfolio", "--project", root)
    assert (code, out) == (1, "")
    assert err == (
        "Error: 2024-10 has billing data that is not attributed yet; run `roi attribute` "
        "(or `roi run`) first\n"
    )
    assert invoke("attribute", "--project", root, "-q")[0] == 0
    code, out, err = invoke("portfolio", "--project", root, "--format", "json")
    assert code == 0, err
    assert json.loads(out)[-1]["month"] == "2024-10-01"


def test_a_forecast_with_too_little_history_says_so(focus_project: Path) -> None:
    # The public sample's models have one month of cost: nothing can be forecast yet.
    code, out, _ = invoke("scenario", "forecast", "--project", str(focus_project))
    assert code == 0
    assert out.startswith("nothing to forecast: a series needs at least two months of history")
