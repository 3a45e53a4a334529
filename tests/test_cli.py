"""The command line: thin wiring over the library, exit codes, formats, common options."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from roi import pipeline
from roi.cli import cli
from roi.config import ProjectConfig
from roi.context import Context
from tests.helpers import roi_cli


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_common_options_work_after_the_command(loaded_project: ProjectConfig) -> None:
    root = str(loaded_project.root)
    code, out, err = invoke(
        "query", "SELECT 1 AS x, 'a,b' AS y", "--project", root, "--format", "csv"
    )
    assert (code, out, err) == (0, 'x,y\n1,"a,b"\n', "")
    code, out, _ = invoke("--project", root, "--format", "json", "query", "SELECT 2 AS x")
    assert code == 0 and json.loads(out) == [{"x": 2}]


def test_status_json(loaded_project: ProjectConfig) -> None:
    code, out, _ = invoke("status", "--project", str(loaded_project.root), "--format", "json")
    assert code == 0
    status = json.loads(out)
    [(lines,)] = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path), "SELECT count(*) FROM cost_lines"
    ).rows()
    assert status["tables"]["cost_lines"] == lines > 0
    sources = {s["connector"]: s for s in status["sources"]}
    assert sources["aws_focus"]["data_through"] == "2026-10-31"
    assert len(sources) == 9
    assert status["last_attribution"]["conflicts"] > 0


def test_data_errors_exit_1_with_one_error_line(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    code, out, err = invoke(
        "query", "SELECT nope FROM cost_lines", "--project", str(loaded_project.root)
    )
    assert code == 1 and out == ""
    assert err.startswith('Error: Binder Error: Referenced column "nope" not found')
    assert err.count("\n") == 1
    code, _, err = invoke("query", "DELETE FROM cost_lines", "--project", str(loaded_project.root))
    assert code == 1 and "only reads the warehouse" in err
    code, _, err = invoke("status", "--project", str(tmp_path))
    assert (code, err) == (
        1,
        f"Error: no roi.toml in {tmp_path.resolve()} (and no warehouse to use); start a "
        f"project with `roi init {tmp_path.resolve()}`, point roi at one with --project DIR, "
        "or name a warehouse file with --warehouse PATH\n",
    )
    code, _, err = invoke(
        "report",
        "--project",
        str(loaded_project.root),
        "--month",
        "2019-01",
        "--out",
        str(tmp_path),
    )
    assert (code, err) == (
        1,
        "Error: --month 2019-01 is outside the data: choose a month from 2024-11 to 2026-10\n",
    )


def test_usage_errors_exit_2() -> None:
    code, _, err = invoke("attribute", "--month", "2026-13")
    assert code == 2 and "'2026-13' is not a month; use YYYY-MM" in err
    code, _, err = invoke("query")
    assert code == 2 and "Missing argument 'SQL'" in err
    code, _, err = invoke("no-such-command")
    assert code == 2


def test_unknown_connector_type_for_ingest(tmp_path: Path) -> None:
    code, _, err = invoke(
        "ingest", "focus_v9", "x.csv", "--project", str(tmp_path), "--warehouse", "w.duckdb"
    )
    assert code == 1 and err.startswith(
        "Error: unknown connector type 'focus_v9'; allowed values: ab_test_csv,"
    )


@pytest.mark.slow
def test_init_then_run_in_a_new_folder(tmp_path: Path) -> None:
    target = tmp_path / "portfolio"
    result = roi_cli("init", str(target), "--sample", "--quiet")
    assert result.returncode == 0, result.stderr
    assert (target / "roi.toml").exists() and (target / "sample_data/README.md").exists()
    again = roi_cli("init", str(target))
    assert (
        again.returncode == 1 and again.stderr.startswith("Error: ") and "--force" in again.stderr
    )
    run = roi_cli("run", "--project", str(target), "--format", "json")
    assert run.returncode == 0, run.stderr
    outputs = [Path(r["output"]) for r in json.loads(run.stdout)]
    assert sorted(p.name for p in outputs) == [
        "executive_pack_2026-10.xlsx",
        "monthly_finance_2026-10.html",
    ]
    assert all(p.exists() and p.parent == target / "reports/out" for p in outputs)
    assert re.search(r"aws_focus: loaded [0-9,]+ row\(s\) into cost_lines", run.stderr)  # stderr
    quiet = roi_cli("load", "--project", str(target), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert "unchanged_files" in quiet.stdout


def test_every_command_has_help_with_an_example() -> None:
    commands = [(name, cmd) for name, cmd in cli.commands.items()]
    for name, command in commands:
        subcommands = getattr(command, "commands", None)
        targets = (
            [(f"{name} {s}", c) for s, c in subcommands.items()]
            if subcommands
            else [(name, command)]
        )
        for full, _ in targets:
            code, out, _ = invoke(*full.split(), "--help")
            assert code == 0, full
            assert "Example" in out, f"roi {full} --help has no example"
            assert f"roi {full}" in out, f"roi {full} --help example does not show the command"


def test_export_takes_the_common_options_too(loaded_project: ProjectConfig, tmp_path: Path) -> None:
    out = tmp_path / "pack.xlsx"
    code, stdout, _ = invoke(
        "export",
        "--format",
        "json",
        "excel",
        "--project",
        str(loaded_project.root),
        "--out",
        str(out),
        "--month",
        "2026-08",
    )
    assert code == 0 and json.loads(stdout) == [{"output": str(out)}]
    assert out.exists()


def test_seed_zero_is_a_seed(tmp_path: Path) -> None:
    for seed in ("0", "20261125"):
        code, _, _ = invoke(
            "sample", "--rows", "500", "--seed", seed, "--out", str(tmp_path / seed), "-q"
        )
        assert code == 0
    first = sorted((tmp_path / "0").rglob("*.parquet"))[0]
    other = tmp_path / "20261125" / first.relative_to(tmp_path / "0")
    assert first.read_bytes() != other.read_bytes()


def test_ingest_options_are_checked(tmp_path: Path) -> None:
    data = tmp_path / "k.csv"
    data.write_text("kpi,period_start,period_end,value\nk,2026-10-01,2026-11-01,1\n")
    code, _, err = invoke(
        "--project", str(tmp_path), "ingest", "kpi_csv", str(data), "--option", "nosuch=1",
        "--warehouse", str(tmp_path / "w.duckdb"),
    )  # fmt: skip
    assert code == 1
    assert err.strip() == "Error: --option: unknown key 'options.nosuch'; allowed keys: none"
    code, _, err = invoke(
        "--project",
        str(tmp_path),
        "ingest",
        "nvidia_smi",
        str(data),
        "--option",
        "timezone=Mars/Olympus",
        "--warehouse",
        str(tmp_path / "w.duckdb"),
    )
    assert (
        code == 1 and "key 'options.timezone' = 'Mars/Olympus' is not allowed; use an IANA" in err
    )


def test_ingest_of_a_url_by_a_file_connector_says_to_download_it(tmp_path: Path) -> None:
    code, _, err = invoke(
        "--project", str(tmp_path), "ingest", "focus", "https://user:pw@example.com/export.csv.gz",
        "--warehouse", str(tmp_path / "w.duckdb"),
    )  # fmt: skip
    assert code == 1
    assert err.strip().startswith(
        "Error: connector type 'focus' reads files, not URLs; download https://example.com/export.csv.gz"
    )
    assert "pw" not in err


def test_ingest_paths_are_relative_to_the_current_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    here = tmp_path / "work"
    (here / "drop").mkdir(parents=True)
    (here / "drop/k.csv").write_text(
        "kpi,period_start,period_end,value\nk,2026-10-01,2026-11-01,1\n"
    )
    result = roi_cli(
        "ingest", "kpi_csv", "drop/k.csv", "--project", str(project), "--format", "json",
        "--warehouse", str(tmp_path / "w.duckdb"), cwd=here,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["rows_loaded"] == 1


def test_a_blank_project_says_what_to_do_and_run_leaves_no_warehouse(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    result = roi_cli("init", str(target))
    assert result.returncode == 0, result.stderr
    assert "roi connect PATH" in result.stderr
    assert not (target / "sample_data").exists()
    assert not list((target / "connectors").glob("*.toml"))
    assert not list((target / "models").glob("*.toml"))
    assert 'name = "mine"' in (target / "roi.toml").read_text()
    for report in (target / "reports").glob("*.toml"):
        assert "[options.budgets]" not in report.read_text().replace("# [options.budgets]", "")
    run = roi_cli("run", "--project", str(target))
    assert run.returncode == 1
    assert run.stderr.startswith("Error: the project in ") and "roi connect PATH" in run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert not (target / "roi.duckdb").exists()  # nothing half-made
