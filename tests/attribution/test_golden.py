"""Golden cases: small input tables in tests/golden/*.toml → expected `allocated_costs` rows."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl
import pytest

from roi import warehouse
from roi.attribution.engine import attribute_costs
from roi.config import AttributionSettings
from roi.config.models import model_from_toml
from roi.config.pools import pool_from_toml
from roi.loading.billing_files import store_lines

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = sorted(GOLDEN.glob("*.toml"))

LINE_DEFAULTS: dict[str, Any] = {
    "provider": "AWS",
    "billing_account_id": "payer",
    "sub_account_id": "acct-1",
    "billing_period_start": "2026-10-01",
    "billing_period_end": "2026-11-01",
    "charge_period_start": "2026-10-05",
    "charge_period_end": "2026-10-06",
    "charge_category": "Usage",
    "billing_currency": "USD",
    "service_name": "Amazon Elastic Compute Cloud",
    "service_category": "Compute",
    "focus_version": "1.2",
    "export": "golden",
    "delivery": "d1",
    "source_file": "golden.csv",
}


def _lines(rows: list[dict[str, Any]]) -> pl.DataFrame:
    import json

    out = []
    for i, row in enumerate(rows, 2):
        line = {**LINE_DEFAULTS, **row}
        tags = line.pop("tags", None)
        amount = Decimal(str(line.pop("amount")))
        out.append(
            {
                **line,
                "billed_cost": Decimal(str(line.pop("billed", amount))),
                "effective_cost": amount,
                "tags": json.dumps(tags) if tags else None,
                "source_row": i,
            }
        )
    frame = pl.DataFrame(out, infer_schema_length=None)
    return frame.with_columns(
        pl.col(c).str.to_datetime(time_zone="UTC")
        for c in (
            "billing_period_start",
            "billing_period_end",
            "charge_period_start",
            "charge_period_end",
        )
    ).with_columns(pl.col("billed_cost", "effective_cost").cast(pl.Decimal(38, 10)))


def _insert(con: warehouse.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        source_file=pl.lit("golden"), _load_id=pl.lit("golden")
    )
    with warehouse.registered(con, "_golden", frame):
        warehouse.execute(con, f"INSERT INTO {table} BY NAME SELECT * FROM _golden")


def _rows(entries: list[dict[str, Any]]) -> list[tuple[object, ...]]:
    return sorted(
        (
            e["month"],
            e["model"],
            e["cost_type"],
            e["basis"],
            e["rule"],
            Decimal(str(e["amount"])).quantize(Decimal("1e-10")),
        )
        for e in entries
    )


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_case(case: Path, tmp_path: Path) -> None:
    spec = tomllib.loads(case.read_text(encoding="utf-8"))
    models = tuple(
        model_from_toml(Path(f"models/{m['model_id']}.toml"), m) for m in spec.get("models", [])
    )
    pools = tuple(
        pool_from_toml(Path(f"pools/{p.pop('id')}.toml"), p) for p in spec.get("pools", [])
    )
    with warehouse.open_warehouse(tmp_path / "w.duckdb") as con:
        store_lines(con, _lines(spec["lines"]), "golden")
        _insert(
            con,
            "gpu_usage",
            [
                {"node": "n1", "source": "golden", "gpu_share": 1.0, **r}
                for r in spec.get("gpu_usage", [])
            ],
        )
        _insert(
            con,
            "inference_usage",
            [
                {
                    "currency": "USD",
                    "cost_source": "reported",
                    "requests": 1,
                    "cached_input_tokens": 0,
                    "cache_write_tokens": 0,
                    "source_row": i,
                    **r,
                }
                for i, r in enumerate(spec.get("inference_usage", []))
            ],
        )
        settings = AttributionSettings(
            training_tags=MappingProxyType(
                {k: tuple(v) for k, v in spec.get("training_tags", {}).items()}
            )
        )
        attribute_costs(con, models, settings, pools=pools)
        amortized = warehouse.fetch_all(
            con,
            """SELECT strftime(month, '%Y-%m'), model_id, cost_type, basis, rule_id, sum(amount)
               FROM allocated_costs_amortized GROUP BY ALL ORDER BY ALL""",
        )
        got = warehouse.fetch_all(
            con,
            """SELECT strftime(month, '%Y-%m'), model_id, cost_type, basis, rule_id, sum(amount)
               FROM allocated_costs GROUP BY ALL ORDER BY ALL""",
        )
        reasons = warehouse.fetch_all(
            con, "SELECT DISTINCT reason FROM unallocated_costs ORDER BY 1"
        )
        usage = warehouse.fetch_all(
            con,
            """SELECT strftime(month, '%Y-%m'), model_id, provider, amount, reason
               FROM usage_costs ORDER BY ALL""",
        )
        conflicts = warehouse.fetch_all(
            con,
            "SELECT resource_id, matched_models, chosen_model FROM attribution_conflicts "
            "ORDER BY 1",
        )
    assert got == _rows(spec["expected"])
    # The amortized view: the same as the expense view unless a model spreads its training.
    assert amortized == _rows(spec.get("expected_amortized", spec["expected"]))
    if "reasons" in spec:
        assert [r[0] for r in reasons] == spec["reasons"]
    assert [list(c) for c in conflicts] == spec.get("conflicts", [])
    # LLM usage with no bill behind it: priced as reported, beside the bills, never in them.
    assert usage == sorted(
        (
            e["month"],
            e["model"],
            e["provider"],
            Decimal(e["amount"]).quantize(Decimal("1e-10")),
            e["reason"],
        )
        for e in spec.get("expected_usage", [])
    )
