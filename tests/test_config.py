"""Project configuration: typed, frozen, overridable from the environment, secrets from env only."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import pytest

from roi import pipeline
from roi.config import load_project, redact_url
from roi.context import Context
from roi.errors import ConfigError


def _assign(target: object, name: str, value: object) -> None:
    """Assign as untyped code would (mypy already refuses it): frozen at run time too."""
    setattr(target, name, value)


def test_sample_project_reads_into_frozen_objects(project_dir: Path) -> None:
    config = load_project(project_dir)
    assert len(config.models) == 12 and len(config.connectors) == 9 and len(config.reports) == 2
    assert config.warehouse_path == project_dir.resolve() / "roi.duckdb"
    fraud = next(m for m in config.models if m.model_id == "fraud-detection")
    assert fraud.selectors.tags["ml-model"] == ("fraud-detection",)
    assert fraud.selectors.gpu_workloads == ("fraud-scorer",)
    assert fraud.risks[0].frequency_per_year.mode == 2.0
    assert fraud.value is not None and fraud.value.method == "confusion_payoff"
    with pytest.raises(dataclasses.FrozenInstanceError):
        _assign(fraud, "stage", "retired")
    with pytest.raises(dataclasses.FrozenInstanceError):
        _assign(fraud.value, "method", "x")


def test_environment_overrides(project_dir: Path) -> None:
    config = load_project(
        project_dir,
        environ={
            "ROI__PROJECT__WAREHOUSE": "/data/other.duckdb",
            "ROI__FINANCE__DISCOUNT_RATE": "0.08",
        },
    )
    assert config.warehouse_path == Path("/data/other.duckdb")
    assert config.finance.discount_rate == 0.08


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"ROI__FINANCE__DISCOUNT_RATE": "ten"},
            "environment variable ROI__FINANCE__DISCOUNT_RATE: key 'finance.discount_rate' must be a number, got 'ten'",
        ),
        (
            {"ROI__ATTRIBUTION__MONTH_BASIS": "fiscal"},
            "environment variable ROI__ATTRIBUTION__MONTH_BASIS: key 'attribution.month_basis' = 'fiscal' "
            "is not allowed; allowed values: billing_period, charge_period",
        ),
        (
            {"ROI__PROJECT__COLOUR": "blue"},
            "environment variable ROI__PROJECT__COLOUR overrides no roi.toml key",
        ),
        (
            {"ROI__WAREHOUSE": "x"},
            "environment variable ROI__WAREHOUSE: expected ROI__SECTION__KEY",
        ),
    ],
)
def test_environment_errors_name_the_variable(
    project_dir: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_project(project_dir, environ=environ)
    assert str(err.value).startswith(message)


def test_config_errors_name_file_key_and_allowed_values(project_dir: Path) -> None:
    model = project_dir / "models/churn-prediction.toml"
    model.write_text(model.read_text().replace('stage = "production"', 'stage = "live"'))
    with pytest.raises(ConfigError) as err:
        load_project(project_dir)
    assert str(err.value) == (
        f"{model.resolve()}: key 'stage' = 'live' is not allowed; allowed values: "
        "experiment, production, retired"
    )


def test_unknown_connector_type_and_key(project_dir: Path) -> None:
    toml = project_dir / "connectors/ab_tests.toml"
    toml.write_text('type = "focus_v9"\npath = "x"\n')
    with pytest.raises(
        ConfigError,
        match=r"ab_tests\.toml: key 'type' = 'focus_v9' is not a connector type; allowed values: "
        "ab_test_csv, ",
    ):
        pipeline.load(Context(load_project(project_dir)))  # checked where connectors resolve
    toml.write_text('type = "kpi_csv"\npath = "x"\n[options]\nsheet = "A"\n')
    with pytest.raises(ConfigError, match=r"ab_tests\.toml: unknown key 'options\.sheet'"):
        pipeline.load(Context(load_project(project_dir)))
    toml.write_text('type = "kpi_csv"\npath = "x"\nschedule = "daily"\n')
    with pytest.raises(
        ConfigError, match=r"ab_tests\.toml: unknown key 'schedule'; allowed keys: type, path"
    ):
        load_project(project_dir)


def test_invalid_toml_names_the_line(project_dir: Path) -> None:
    (project_dir / "roi.toml").write_text("[project\nname = 1\n")
    with pytest.raises(ConfigError, match=r"roi\.toml: invalid TOML: .*line 1"):
        load_project(project_dir)


def test_missing_project(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no roi\.toml in .*--project DIR.*roi init"):
        load_project(tmp_path)


def test_secrets_come_only_from_named_environment_variables(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = project_dir / "connectors/warehouse_kpis.toml"
    toml.write_text('type = "kpi_csv"\npath = "k.csv"\npassword = "hunter2"\n')
    with pytest.raises(ConfigError, match=r"holds a secret in the file; remove it.*password_env"):
        load_project(project_dir)
    toml.write_text('type = "kpi_csv"\npath = "k.csv"\npassword_env = "KPI_DB_PASSWORD"\n')
    connector = load_project(project_dir).connector("warehouse_kpis")
    with pytest.raises(ConfigError, match=r"environment variable KPI_DB_PASSWORD .* is not set"):
        connector.secret("password")
    monkeypatch.setenv("KPI_DB_PASSWORD", "hunter2")
    assert connector.secret("password") == "hunter2"
    assert "hunter2" not in repr(connector)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'model_id = "fraud|detection"',
            "key 'model_id' = 'fraud|detection' is not allowed; use 1-63 lower-case",
        ),
        ('model_id = "__unallocated__"', "key 'model_id' = '__unallocated__' is not allowed"),
    ],
)
def test_model_ids_are_checked(project_dir: Path, line: str, message: str) -> None:
    model = project_dir / "models/churn-prediction.toml"
    model.write_text(model.read_text().replace('model_id = "churn-prediction"', line))
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_project(project_dir)


def test_priority_range(project_dir: Path) -> None:
    model = project_dir / "models/churn-prediction.toml"
    model.write_text(
        model.read_text().replace("[selectors]\n", "[selectors]\npriority = 5000000000\n")
    )
    with pytest.raises(ConfigError, match=r"selectors\.priority' = 5000000000 is out of range"):
        load_project(project_dir)


def test_redact_url() -> None:
    assert (
        redact_url("https://bob:s3cret@prom.example:9090/api?token=x#f")
        == "https://prom.example:9090/api"
    )


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "connectors/dcgm.toml",
            'cluster = "ml-shared-gpu"',
            'clustr = "ml-shared-gpu"',
            "dcgm.toml: unknown key 'options.clustr'; allowed keys: cluster, step_seconds, start,",
        ),
        (
            "connectors/dcgm.toml",
            "step_seconds = 3600",
            'step_seconds = "1h"',
            "dcgm.toml: key 'options.step_seconds' must be a whole number, got '1h'",
        ),
        (
            "connectors/aws_focus.toml",
            'path = "sample_data/billing/aws/focus-export/data"',
            'path = "sample_data/billing/aws/focus-export/data"\n'
            '[options]\ndelivery_order = "newest"',
            "aws_focus.toml: key 'options.delivery_order' = 'newest' is not allowed; allowed "
            "values: folder_name, modified_time",
        ),
        (
            "models/credit-scoring.toml",
            'method = "per_unit"',
            'methd = "per_unit"',
            "credit-scoring.toml: key 'value.method' is missing; name a value method",
        ),
        (
            "models/credit-scoring.toml",
            'method = "per_unit"',
            'method = "magic"',
            "credit-scoring.toml: key 'value.method' is 'magic'; allowed values: ab_uplift, "
            "confusion_payoff, cost_savings, did, kpi_regression, per_unit",
        ),
        (
            "models/credit-scoring.toml",
            'volume_kpi = "applications_scored"',
            'volume_kpi = "applications_scored"\nunit_valu = 3.5',
            "credit-scoring.toml: unknown key 'value.unit_valu'; allowed keys: method, "
            "volume_kpi, kpi, unit_value_kpi, unit_value, baseline, unit",
        ),
        (
            "models/search-ranking.toml",
            "frequency_per_year = 1.0",
            "frequency_per_yr = 1.0",
            "search-ranking.toml: unknown key 'risks[1].frequency_per_yr'; allowed keys: name, "
            "frequency_per_year,",
        ),
        (
            "models/fraud-detection.toml",
            "retrain_every_months = 3",
            "retrain_every_month = 3",
            "fraud-detection.toml: unknown key 'quality.retrain_every_month'",
        ),
        (
            "models/search-ranking.toml",
            "metric_drop = [0.01, 0.05, 0.1]",
            "metric_drop = [0.1, 0.05, 0.01]",
            "search-ranking.toml: key 'risks[1].metric_drop' must be a number, or [min, most "
            "likely, max]",
        ),
    ],
)
def test_typos_and_wrong_types_in_sections_are_errors(
    project_dir: Path, file: str, old: str, new: str, message: str
) -> None:
    path = project_dir / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        # A connector's options are checked where the project's connectors are resolved.
        pipeline.load(Context(load_project(project_dir)))
    assert message in str(err.value)


def test_risk_estimates_take_pert_ranges(project_dir: Path) -> None:
    path = project_dir / "models/fraud-detection.toml"
    path.write_text(
        path.read_text()
        .replace("metric_drop = [0.01, 0.03, 0.06]", "metric_drop = [0.01, 0.03, 0.08]")
        .replace(
            "detection_delay_days = [7, 21, 45]",
            "detection_delay_days = { min = 7, mode = 21, max = 60 }",
        )
        .replace("recovery_cost = 4000", "recovery_cost = { median = 4000, sigma = 0.5 }")
    )
    fraud = next(m for m in load_project(project_dir).models if m.model_id == "fraud-detection")
    risk = fraud.risks[0]
    assert (risk.metric_drop.low, risk.metric_drop.mode, risk.metric_drop.high) == (
        0.01,
        0.03,
        0.08,
    )
    assert risk.detection_delay_days.high == 60 and not risk.detection_delay_days.is_point
    assert risk.recovery_cost.sigma == 0.5 and not risk.recovery_cost.is_point
    assert risk.recovery_cost.mean == pytest.approx(4000 * math.exp(0.125))
