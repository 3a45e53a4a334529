"""A project built from the public FOCUS sample the way a new user builds one (init, connect,
models suggest --write, run), shared by the CLI tests (read only, besides scenario runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from roi.cli import cli
from tests.conftest import shared_file

FOCUS_SAMPLE = "focus/focus-1.0-sample/focus_sample.csv"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run `roi ARGS` in-process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="session")
def focus_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A blank project on the public FOCUS 1.0 sample (2024-09 and 2024-10), loaded and
    attributed once (no reports: the tests that use it read the warehouse)."""
    data = shared_file(FOCUS_SAMPLE)
    root = tmp_path_factory.mktemp("focus") / "mine"
    for args in (
        ("init", str(root)),
        ("connect", str(data), "--project", str(root)),
        ("models", "suggest", "--write", "--project", str(root)),
        ("load", "--project", str(root)),
        ("attribute", "--project", str(root)),
    ):
        code, out, err = invoke(*args, "--quiet")
        assert code == 0, (args, out, err)
    return root
