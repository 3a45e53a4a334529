"""The README documents every command and connector type, and CI runs its commands."""

from __future__ import annotations

import re

from roi.cli import cli
from roi.connectors import connector_types
from roi.scenarios.baseline import DAYS_PER_MONTH
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _all_commands() -> list[str]:
    names: list[str] = []
    for name, command in cli.commands.items():
        sub = getattr(command, "commands", None)
        names.extend(f"{name} {s}" for s in sub) if sub else names.append(name)
    return names


def test_every_command_is_in_the_readme_reference() -> None:
    for command in _all_commands():
        assert f"| `roi {command}` |" in README, f"roi {command} is missing from the CLI reference"
        assert cli.commands[command.split()[0]].help


def test_every_connector_type_is_documented() -> None:
    for name in connector_types():
        assert f"| `{name}` |" in README, f"connector type {name} is missing from the README"


def quick_start_commands() -> tuple[str, str]:
    """The install-and-run and the test command, as CI reads them."""
    found = dict(re.findall(r"<!-- ([a-z-]+) -->\n```bash\n(.+)\n```", README))
    return found["install-and-run"], found["test-command"]


def test_quick_start_has_two_commands_and_ci_uses_them() -> None:
    run, test = quick_start_commands()
    assert run == "pip install -e . && roi run"
    assert test == 'pip install -e ".[dev]" && pytest -n auto'
    ci = (REPO / ".ci/run").read_text()
    assert "test-command" in ci and "install-and-run" in ci


def test_the_readme_month_has_the_days_the_code_uses() -> None:
    stated = re.findall(r"/ (30\.\d+)", README)
    assert stated, "the README no longer states the days of a month"
    assert {float(days) for days in stated} == {DAYS_PER_MONTH} == {30.4375}
