"""`roi explain`: a model's month-over-month change as volume, price, mix and pool effects."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from roi import pipeline, warehouse
from roi.attribution.engine import attribute_costs
from roi.attribution.explain import explain
from roi.config import AttributionSettings, FinanceSettings, ProjectConfig, ProjectSettings
from roi.config.models import model_from_toml
from roi.context import Context
from roi.loading.billing_files import store_lines
from tests.attribution.test_golden import _lines


def test_effects_add_up_to_the_change_for_models_idle_and_unallocated(
    loaded_project: ProjectConfig,
) -> None:
    for model_id in ("recommendations", "fraud-detection", "__idle__", "__unallocated__"):
        result = pipeline.explain(Context(loaded_project), model_id, date(2026, 10, 1))
        assert result.previous == date(2026, 9, 1)
        assert sum(result.effects["amount"].to_list(), Decimal(0)) == result.change.quantize(
            Decimal("0.01")
        )
        assert result.movers.height >= 1
    idle = pipeline.explain(Context(loaded_project), "__idle__", date(2026, 10, 1))
    effects = dict(idle.effects.rows())
    assert effects["pool cost"] == idle.change.quantize(
        Decimal("0.01")
    )  # the same share of a dearer cluster


def test_volume_price_and_mix_by_hand(tmp_path: Path) -> None:
    """Two instances of one model, priced per hour, in September and October.

    September: a 100 h × 1.00 = 100, b 100 h × 2.00 = 200 (300 for 200 h, 1.50/h)
    October:   a 100 h × 1.10 = 110, b 200 h × 2.00 = 400 (510 for 300 h)
      volume = (300 − 200) × 1.50                    = 150
      mix    = (100 − 300×½)×1.00 + (200 − 300×½)×2.00 = −50 + 100 = 50
      price  = 100 × 0.10 + 200 × 0                   = 10      (150 + 50 + 10 = 210)
    """
    rows = []
    for month, hours_a, price_a, hours_b in (
        ("2026-09", 100, "1.00", 100),
        ("2026-10", 100, "1.10", 200),
    ):
        period = {
            "billing_period_start": f"{month}-01",
            "billing_period_end": "2026-11-01" if month == "2026-10" else "2026-10-01",
            "charge_period_start": f"{month}-05",
            "charge_period_end": f"{month}-06",
        }
        rows.append(
            {
                **period,
                "resource_id": "vm-a",
                "tags": {"ml-model": "m"},
                "consumed_quantity": float(hours_a),
                "consumed_unit": "Hours",
                "amount": str(Decimal(price_a) * hours_a),
            }
        )
        rows.append(
            {
                **period,
                "resource_id": "vm-b",
                "tags": {"ml-model": "m"},
                "consumed_quantity": float(hours_b),
                "consumed_unit": "Hours",
                "amount": str(Decimal("2.00") * hours_b),
            }
        )
    model = model_from_toml(
        Path("models/m.toml"),
        {
            "model_id": "m",
            "name": "M",
            "owner": "o",
            "business_unit": "u",
            "stage": "production",
            "selectors": {"tags": {"ml-model": ["m"]}},
        },
    )
    with warehouse.open_warehouse(tmp_path / "w.duckdb") as con:
        store_lines(con, _lines(rows), "l")
        attribute_costs(con, (model,), AttributionSettings())
        project = ProjectConfig(
            root=tmp_path,
            project=ProjectSettings(),
            attribution=AttributionSettings(),
            finance=FinanceSettings(),
            connectors=(),
            models=(model,),
            reports=(),
        )
        result = explain(con, project, "m", date(2026, 10, 1))
    assert (result.before, result.after) == (Decimal("300.0000000000"), Decimal("510.0000000000"))
    assert dict(result.effects.rows()) == {
        "volume": Decimal("150.00"),
        "mix": Decimal("50.00"),
        "price": Decimal("10.00"),
        "new, gone or unmetered": Decimal("0.00"),
        "pool cost": Decimal("0.00"),
        "pool share": Decimal("0.00"),
    }
    assert result.movers["resource_id"].to_list() == ["vm-b", "vm-a"]
    assert result.movers.filter(pl.col("resource_id") == "vm-b")["change"].item() == Decimal("200")


def test_unknown_model_is_a_clear_error(loaded_project: ProjectConfig) -> None:
    with pytest.raises(Exception, match=r"no model 'nope'; known: "):
        pipeline.explain(Context(loaded_project), "nope", date(2026, 10, 1))
