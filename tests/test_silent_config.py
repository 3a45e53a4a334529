"""Configuration and data that used to count without a word: each is now a warning or an error.

Audit items: a deleted connector's lines kept counting; a selector that matched nothing left a
production model at cost 0 beside its value; a negative unit value and a Prometheus URL with a
password in the TOML were accepted.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from roi import pipeline
from roi.cli import cli
from roi.config import load_project
from roi.context import Context
from roi.errors import ConfigError


def _roi(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "--project", str(project), "--quiet"])
    return result.exit_code, result.stdout, result.stderr


def _azure_total(project: Path) -> Decimal:
    return Decimal(
        str(
            pipeline.query(
                Context.for_warehouse(load_project(project).warehouse_path),
                "SELECT coalesce(sum(effective_cost), 0) FROM cost_lines WHERE provider = 'Microsoft'",
            ).item()
        )
    )


@pytest.mark.slow
def test_a_deleted_connector_is_named_until_it_is_forgotten(project_dir: Path) -> None:
    pipeline.load(Context(load_project(project_dir)))
    assert _azure_total(project_dir) > 0
    lines = pipeline.query(
        Context.for_warehouse(load_project(project_dir).warehouse_path),
        "SELECT count(*) FROM cost_lines WHERE provider = 'Microsoft'",
    ).item()
    (project_dir / "connectors/azure_focus.toml").unlink()
    code, _, err = _roi(project_dir, "attribute")
    assert code == 0
    assert "Warning: connector azure_focus is not defined in connectors/ any more" in err
    assert "roi forget azure_focus" in err
    code, _, err = _roi(project_dir, "status")
    assert code == 0 and "connector azure_focus is not defined" in err
    code, out, err = _roi(project_dir, "forget", "azure_focus", "--format", "json")
    assert code == 0, err
    assert json.loads(out)[0]["billing_lines"] == lines
    assert _azure_total(project_dir) == 0
    code, _, err = _roi(project_dir, "attribute")
    assert code == 0 and "azure_focus" not in err
    allocated = pipeline.query(
        Context.for_warehouse(load_project(project_dir).warehouse_path),
        "SELECT count(*) FROM allocated_costs WHERE provider = 'Microsoft'",
    ).item()
    assert allocated == 0  # the months it touched were attributed again
    assert pipeline.reconcile(Context(load_project(project_dir))).reconciled
    code, _, err = _roi(project_dir, "forget", "azure_focus")
    assert code == 1 and "holds no data of connector 'azure_focus'" in err


@pytest.mark.slow
def test_a_selector_that_matches_nothing_is_a_warning(project_dir: Path) -> None:
    toml = project_dir / "models/demand-forecast.toml"
    toml.write_text(
        toml.read_text()
        .replace('tags = { "ml-model" = ["demand-forecast"] }', 'tags = { "ml-modle" = ["x"] }')
        .replace("i-0demand*", "i-0nothing*")
    )
    pipeline.load(Context(load_project(project_dir)))
    result = pipeline.attribute(Context(load_project(project_dir)))
    [warning] = [w for w in result.warnings if "demand-forecast" in w]
    assert warning.startswith(
        "model demand-forecast (production) has selectors (tags, resource_ids) in "
    )
    assert "but no cost in any month" in warning
    checks = pipeline.status(Context(load_project(project_dir))).warnings
    assert warning in checks


def test_a_negative_unit_value_is_refused(project_dir: Path) -> None:
    toml = project_dir / "models/demand-forecast.toml"
    toml.write_text(
        toml.read_text().replace('unit_value_kpi = "cost_of_cash_rate"', "unit_value = -2.5")
    )
    with pytest.raises(
        ConfigError, match=r"demand-forecast\.toml: key 'value\.unit_value' = -2\.5 is negative"
    ):
        pipeline.check_project(load_project(project_dir))  # the value method checks its keys


@pytest.mark.parametrize(
    "url",
    ["http://analyst:hunter2@prometheus:9090", "http://prometheus:9090/?api_key=hunter2"],
)
def test_a_url_with_a_credential_in_the_toml_is_refused(project_dir: Path, url: str) -> None:
    (project_dir / "connectors/dcgm.toml").write_text(
        f'type = "dcgm_prometheus"\nurl = "{url}"\n\n[options]\ncluster = "c"\n'
    )
    with pytest.raises(ConfigError) as err:
        load_project(project_dir)
    assert "dcgm.toml: the url http://prometheus:9090" in str(err.value)
    assert " holds a " in str(err.value)
    assert "hunter2" not in str(err.value) and "token_env" in str(err.value)
