"""Small projects and baselines for scenario tests: a roi.toml, model files with risks, and
baselines built here (the figures a scenario would read from a warehouse)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from roi.config import ProjectConfig, load_project
from roi.scenarios.baseline import COST_PARTS, Baseline


def project(tmp: Path, models: dict[str, str], risk: str = "") -> ProjectConfig:
    """A project folder with the given model files (`[[risks]]` TOML after the header)."""
    (tmp / "models").mkdir(parents=True, exist_ok=True)
    (tmp / "roi.toml").write_text(f'[project]\nname = "t"\ncurrency = "USD"\n{risk}\n')
    for model_id, body in models.items():
        (tmp / "models" / f"{model_id}.toml").write_text(
            f'model_id = "{model_id}"\nname = "{model_id}"\nowner = "o"\nbusiness_unit = "b"\n'
            f'stage = "production"\n\n[quality]\nmetric = "auc"\n\n{body}\n'
        )
    return load_project(tmp)


def baseline(
    model_id: str,
    value_per_point: float | None = 100.0,
    value: float | None = 10_000.0,
    recent_value: float | None = None,
    **costs: float,
) -> Baseline:
    """A model's month with the given cost parts (the rest zero)."""
    parts = {p: 0.0 for p in COST_PARTS} | costs
    return Baseline(
        model_id=model_id,
        name=model_id,
        stage="production",
        month=date(2026, 10, 1),
        currency="USD",
        costs=parts,
        value=value,
        value_low=None,
        value_high=None,
        volume=None,
        recent_value=recent_value if recent_value is not None else value,
        gpu_efficiency=None,
        value_per_point=value_per_point,
        value_per_point_source="test",
    )
