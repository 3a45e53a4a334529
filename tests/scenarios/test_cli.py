"""Every scenario command on the sample project: it runs, is stored under its id, gives the same
bytes for the same seed, and refuses bad parameters with one `Error:` line."""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from roi import pipeline
from roi.cli.scenario import scenario
from roi.config import ProjectConfig
from roi.context import Context
from roi.documents import plain
from tests.conftest import REPO, copy_project
from tests.helpers import roi_cli

README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sample(loaded_project: ProjectConfig, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the loaded sample project (scenario runs write to its warehouse)."""
    target = tmp_path_factory.mktemp("scenarios") / "project"
    shutil.copytree(loaded_project.root, target, ignore=shutil.ignore_patterns("out"))
    return target


COMMANDS = [
    ("decay", "--all"),
    ("failure", "--all", "--seed", "3", "--draws", "20000"),
    ("forecast", "support-assistant", "--months", "6"),
    ("whatif", "--set", "gpu_price=0.8", "--set", "retire=recommendations"),
    ("sensitivity", "fraud-detection"),
    ("retrain", "demand-forecast"),
]


@pytest.mark.slow
@pytest.mark.parametrize("args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_each_command_runs_on_the_sample_and_is_stored(sample: Path, args: tuple[str, ...]) -> None:
    result = roi_cli("scenario", *args, "--project", str(sample), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    run_id = document["run_id"]
    assert re.fullmatch(r"scn-[0-9a-f]{16}", run_id) and run_id in result.stderr
    stored = pipeline.query(
        Context.for_warehouse(sample / "roi.duckdb"),
        f"SELECT command, outputs FROM scenario_runs WHERE run_id = '{run_id}'",
    ).row(0)
    assert stored[0].startswith(args[0])
    # The stored outputs, in the JSON contract (money as decimal strings to the cent).
    assert plain({"outputs": json.loads(stored[1])})["outputs"] == document["outputs"]
    table = roi_cli("scenario", *args, "--project", str(sample), "--format", "csv", "--quiet")
    assert table.returncode == 0 and table.stdout.count("\n") > 1


@pytest.mark.slow
def test_the_same_seed_gives_byte_identical_json_and_another_seed_other_numbers(
    sample: Path,
) -> None:
    def run(seed: str) -> str:
        result = roi_cli(
            "scenario",
            "failure",
            "--all",
            "--seed",
            seed,
            "--draws",
            "5000",
            "--project",
            str(sample),
            "--format",
            "json",
            "--quiet",
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    first, again, other = run("7"), run("7"), run("8")
    assert first == again and first != other
    document = json.loads(first)
    portfolio = {k: Decimal(document["outputs"]["portfolio"][k]) for k in ("p50", "p95", "p99")}
    assert portfolio["p99"] >= portfolio["p95"] >= portfolio["p50"] >= 0
    assert (
        document["outputs"]["exceedance"][0]["probability"]
        > document["outputs"]["exceedance"][-1]["probability"]
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("failure", "nobody"), "unknown model 'nobody'; known models: aml-screening"),
        (("failure", "--all", "--level", "1.2"), "--level 1.2 must be between 0 and 1"),
        (("failure", "--all", "--correlation", "-0.5"), "--correlation -0.5 must be from 0"),
        (("whatif", "--set", "gpu_prize=1"), "unknown driver 'gpu_prize'"),
        (("forecast", "--level", "0"), "--level 0.0 must be between 0 and 1"),
        (("sensitivity", "fraud-detection", "--range", "gpu_price=2:1"), "low <= high"),
        (("retrain", "nobody"), "unknown model 'nobody'"),
    ],
)
def test_bad_parameters_are_one_error_line(
    sample: Path, args: tuple[str, ...], message: str
) -> None:
    result = roi_cli("scenario", *args, "--project", str(sample))
    assert result.returncode in (1, 2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr


def test_a_bad_risk_in_a_model_file_is_an_error_naming_it(project_dir: Path) -> None:
    model = project_dir / "models" / "fraud-detection.toml"
    model.write_text(
        model.read_text().replace("frequency_per_year = 1.0", "frequency_per_year = -1.0")
    )
    result = roi_cli("scenario", "failure", "--all", "--project", str(project_dir))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and "fraud-detection.toml" in result.stderr
    assert "frequency_per_year" in result.stderr


def test_every_scenario_help_example_is_in_the_readme() -> None:
    for name, command in scenario.commands.items():
        examples = [
            line.strip()
            for line in (command.help or "").split("Example")[-1].splitlines()
            if line.strip().startswith("roi scenario")
        ]
        assert examples, f"roi scenario {name} has no example in its help"
        for example in examples:
            assert example in README, f"{example!r} is not in the README"


@pytest.mark.slow
def test_two_fresh_builds_of_the_sample_give_the_same_run_ids(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    fresh = copy_project(tmp_path / "again")  # a clean copy, built by the CLI this time
    result = roi_cli("run", "--project", str(fresh), "--quiet", timeout=600)
    assert result.returncode == 0, result.stderr
    query = "SELECT command, run_id FROM scenario_runs ORDER BY command"
    first = pipeline.query(Context.for_warehouse(loaded_project.warehouse_path), query)
    second = pipeline.query(Context.for_warehouse(fresh / "roi.duckdb"), query)
    runs = dict(second.iter_rows())
    assert {"decay --all", "failure --all", "forecast --all"} <= set(runs)
    assert all(dict(first.iter_rows()).get(c) == r for c, r in runs.items())
    # ... although every load and attribution id differs between the two builds.
    ids = "SELECT max(attribution_id) FROM _attributions"
    assert pipeline.query(Context.for_warehouse(loaded_project.warehouse_path), ids).item() != (
        pipeline.query(Context.for_warehouse(fresh / "roi.duckdb"), ids).item()
    )
