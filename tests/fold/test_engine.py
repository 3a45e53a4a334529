"""`[engine]` in roi.toml, and an engine roi cannot reach: one `Error:` naming its URL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from roi.cli import cli
from roi.config import ProjectConfig, load_project
from roi.errors import ConfigError
from tests.conftest import copy_project


def test_engine_section_is_read_and_checked(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    assert load_project(root).engine.kind == "duckdb"  # the default: today's behaviour
    toml = root / "roi.toml"
    text = toml.read_text()
    toml.write_text(text + '\n[engine]\nkind = "spark"\nremote = "sc://spark.internal:15002"\n')
    engine = load_project(root).engine
    assert (engine.kind, engine.remote) == ("spark", "sc://spark.internal:15002")
    toml.write_text(text + '\n[engine]\nkind = "spark"\nremote = "spark.internal:15002"\n')
    with pytest.raises(ConfigError, match="sc://host:15002"):
        load_project(root)


@pytest.mark.skipif(shutil.which("java") is None, reason="no pyspark without Java")
def test_unreachable_spark_connect_is_one_error(
    loaded_project: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setenv("ROI__ENGINE__KIND", "spark")
    monkeypatch.setenv("ROI__ENGINE__REMOTE", '"sc://127.0.0.1:9"')
    result = CliRunner().invoke(cli, ["fold", "--project", str(loaded_project.root)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    assert "sc://127.0.0.1:9" in lines[0] and "start-connect-server" in lines[0]
