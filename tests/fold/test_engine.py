"""`[engine]` in roi.toml, and an engine roi cannot reach: one `Error:` naming its URL."""

from __future__ import annotations

import re
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


def test_usage_read_where_it_lives_is_configured(tmp_path: Path) -> None:
    """`[engine] usage` and `gpu_usage` with their formats: local folders are relative to the
    project (URLs and tables as written); a format roi cannot read, or a source DuckDB would
    not read, is an error naming the key."""
    root = copy_project(tmp_path / "project")
    toml = root / "roi.toml"
    text = toml.read_text()
    toml.write_text(
        text + '\n[engine]\nkind = "spark"\nbilling = "s3a://finops/cost_lines/"\n'
        'usage = "lake/requests"\nusage_format = "csv"\n'
        'gpu_usage = "k8s.gpu_usage"\ngpu_usage_format = "table"\n'
    )
    engine = load_project(root).engine
    assert engine.billing == "s3a://finops/cost_lines/" and engine.billing_format == "parquet"
    assert engine.usage == str((root / "lake" / "requests").absolute())
    assert engine.usage_format == "csv"
    assert (engine.gpu_usage, engine.gpu_usage_format) == ("k8s.gpu_usage", "table")
    assert engine.reads_elsewhere
    toml.write_text(text + '\n[engine]\nkind = "spark"\nusage = "lake"\nusage_format = "orc"\n')
    wanted = "'engine.usage_format' = 'orc' is not allowed; allowed values: parquet, csv, table"
    with pytest.raises(ConfigError, match=re.escape(wanted)):
        load_project(root)
    toml.write_text(text + '\n[engine]\ngpu_usage = "lake/gpu"\n')
    with pytest.raises(
        ConfigError, match=re.escape("""'engine.gpu_usage' is read by kind = "spark" only""")
    ):
        load_project(root)
    assert not load_project(copy_project(tmp_path / "plain")).engine.reads_elsewhere


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
