"""Shared pools on the sample project: the bases equal an independent computation from the raw
usage rows, splits conserve every cent, and random pools never lose or invent money."""

from __future__ import annotations

import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roi import pipeline, warehouse
from roi.attribution.engine import attribute_costs
from roi.attribution.split import split_amount
from roi.config import AttributionSettings, ModelConfig, ModelSelectors, ProjectConfig, load_project
from roi.config.pools import PoolClaims, PoolConfig, PoolUsage, pool_from_toml
from roi.context import Context
from roi.errors import ConfigError
from roi.loading.billing_files import store_lines
from roi.warehouse.cost_store import data_dir
from tests.helpers import copy_loaded

OCTOBER = date(2026, 10, 1)


def _glob(pattern: str) -> str:
    return "^" + re.escape(pattern).replace(r"\*", ".*") + "$"


def test_gpu_hours_equal_an_independent_computation(loaded_project: ProjectConfig) -> None:
    raw = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT gpu_uuid, interval_start, interval_end, namespace, workload, pod, gpu_share, "
        "utilization FROM gpu_usage WHERE cluster = 'ml-shared-gpu' "
        "AND interval_start >= '2026-10-01' AND interval_start < '2026-11-01'",
    )
    hours = (pl.col("interval_end") - pl.col("interval_start")).dt.total_seconds() / 3600
    per_model: dict[str, tuple[float, float]] = {}
    for model in loaded_project.models:
        patterns = [_glob(p) for p in model.selectors.gpu_workloads]
        if not patterns:
            continue
        mine = raw.filter(
            pl.any_horizontal(pl.col("workload").str.contains(p).fill_null(False) for p in patterns)
            & (pl.col("gpu_share") > 0)
        )
        held = mine.select((hours * pl.col("gpu_share")).sum()).item()
        busy = mine.select(
            (hours * pl.col("gpu_share") * pl.col("utilization").fill_null(0)).sum()
        ).item()
        if held:
            per_model[model.model_id] = (held, busy)
    capacity = raw.unique(["gpu_uuid", "interval_start"]).select(hours.sum()).item()
    bases = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT model_id, quantity, usage_quantity, share FROM allocation_bases "
        "WHERE rule_id = 'pool:eks-gpu' AND month = '2026-10-01'",
    )
    got = {r[0]: (r[1], r[2]) for r in bases.rows()}
    idle = got.pop("__idle__")
    assert set(got) == set(per_model) and len(got) >= 5
    for model_id, (held, busy) in per_model.items():
        assert got[model_id][0] == pytest.approx(held, rel=1e-9)
        assert got[model_id][1] == pytest.approx(busy, rel=1e-9)
    assert idle[0] == pytest.approx(capacity - sum(h for h, _ in per_model.values()), rel=1e-9)
    # The money follows the GPU-hours exactly: pool cost × share, split to the 1e-10.
    rows = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT model_id, sum(amount) FROM allocated_costs WHERE rule_id = 'pool:eks-gpu' "
        "AND month = '2026-10-01' GROUP BY 1",
    ).rows()
    split = dict(rows)
    total = sum(split.values(), Decimal(0))
    pooled = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT sum(effective_cost) FROM cost_lines WHERE billing_period_start = '2026-10-01' "
        "AND tags['eks:cluster-name'] = 'ml-shared-gpu' AND tags['ml-model'] IS NULL",
    ).item()
    assert total == pooled
    weights = {k: v[0] for k, v in per_model.items()} | {"__idle__": idle[0]}
    for model_id, amount in split.items():
        assert abs(float(amount) - float(total) * weights[model_id] / sum(weights.values())) < 0.05


def _gpu_hours(path: Path, project: ProjectConfig) -> tuple[dict[str, tuple[float, float]], float]:
    """Per model (held, busy) GPU-hours in October on the shared cluster, and its capacity,
    from the raw `gpu_usage` rows."""
    raw = pipeline.query(
        Context.for_warehouse(path),
        "SELECT gpu_uuid, interval_start, interval_end, workload, gpu_share, utilization "
        "FROM gpu_usage WHERE cluster = 'ml-shared-gpu' "
        "AND interval_start >= '2026-10-01' AND interval_start < '2026-11-01'",
    )
    hours = (pl.col("interval_end") - pl.col("interval_start")).dt.total_seconds() / 3600
    per_model = {}
    for model in project.models:
        patterns = [_glob(p) for p in model.selectors.gpu_workloads]
        mine = raw.filter(
            pl.any_horizontal(
                pl.col("workload").str.contains(p).fill_null(False) for p in patterns or ["^$"]
            )
            & (pl.col("gpu_share") > 0)
        )
        held = mine.select((hours * pl.col("gpu_share")).sum()).item()
        busy = mine.select((hours * pl.col("gpu_share") * pl.col("utilization")).sum()).item()
        if held:
            per_model[model.model_id] = (held, busy)
    return per_model, raw.unique(["gpu_uuid", "interval_start"]).select(hours.sum()).item()


@pytest.mark.slow
@pytest.mark.parametrize("idle_held", ["separate", "share"])
def test_two_idle_lines_under_the_utilization_basis(
    loaded_project: ProjectConfig, tmp_path: Path, idle_held: str
) -> None:
    root = copy_loaded(loaded_project, tmp_path / "project")
    pool = root / "pools" / "eks-gpu.toml"
    pool.write_text(
        pool.read_text().replace(
            'basis = "gpu_hours"', f'basis = "gpu_hours_utilization"\nidle_held = "{idle_held}"'
        )
    )
    context = Context(load_project(root))
    pipeline.attribute(context)
    path = root / "roi.duckdb"
    per_model, capacity = _gpu_hours(path, context.project)
    held = sum(h for h, _ in per_model.values())
    busy = sum(b for _, b in per_model.values())
    # Capacity nobody held and capacity held but not busy, each its own named line (or the
    # second shared back to the models by their busy GPU-hours).
    weights = {m: b for m, (_, b) in per_model.items()} | {"__idle__": capacity - held}
    if idle_held == "separate":
        weights["__idle_held__"] = held - busy
    split = dict(
        pipeline.query(
            Context.for_warehouse(path),
            "SELECT model_id, sum(amount) FROM allocated_costs WHERE rule_id = 'pool:eks-gpu' "
            "AND month = '2026-10-01' GROUP BY 1",
        ).rows()
    )
    assert set(split) == set(weights)
    total = float(sum(split.values(), Decimal(0)))
    for target, weight in weights.items():
        assert float(split[target]) == pytest.approx(
            total * weight / sum(weights.values()), abs=0.005
        ), target
    idle_hours = dict(
        pipeline.query(
            Context.for_warehouse(path),
            "SELECT model_id, quantity FROM allocation_bases WHERE rule_id = 'pool:eks-gpu' "
            "AND month = '2026-10-01' AND model_id IN ('__idle__', '__idle_held__')",
        ).rows()
    )
    assert idle_hours["__idle__"] == pytest.approx(capacity - held, rel=1e-9)
    if idle_held == "separate":
        assert idle_hours["__idle_held__"] == pytest.approx(held - busy, rel=1e-9)
    # Money stays exact: every month reconciles to the cent, both idle lines counted as idle.
    result = pipeline.reconcile(context)
    assert result.reconciled and result.months.height == 24


def test_idle_held_is_only_for_the_utilization_basis(tmp_path: Path) -> None:
    path = tmp_path / "pools" / "gpu.toml"
    data = {
        "title": "GPU",
        "basis": "gpu_hours",
        "idle_held": "share",
        "claims": {"tags": {"team": ["x"]}},
        "usage": {"clusters": ["c1"]},
    }
    with pytest.raises(ConfigError, match=r"gpu.toml: idle_held applies to basis "):
        pool_from_toml(path, data)


def test_llm_account_is_split_by_the_gateways_reported_cost(loaded_project: ProjectConfig) -> None:
    usage = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT model_id, feature, cost FROM inference_usage WHERE provider = 'azure' "
        "AND ts >= '2026-10-01' AND ts < '2026-11-01'",
    )
    by_feature = {f: m.model_id for m in loaded_project.models for f in m.selectors.llm_features}
    weights: dict[str, float] = {}
    for model_id, feature, cost in usage.rows():
        owner = model_id or by_feature.get(feature)
        assert owner is not None
        weights[owner] = weights.get(owner, 0.0) + float(cost or 0)
    bill = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT sum(effective_cost) FROM cost_lines WHERE billing_period_start = '2026-10-01' "
        "AND resource_id LIKE '%/accounts/oai-northwind-shared'",
    ).item()
    expected = split_amount(bill, weights)
    got = dict(
        pipeline.query(
            Context.for_warehouse(loaded_project.warehouse_path),
            "SELECT model_id, sum(amount) FROM allocated_costs WHERE rule_id = "
            "'pool:azure-openai' AND month = '2026-10-01' GROUP BY 1",
        ).rows()
    )
    assert got == expected and sum(got.values()) == bill


def test_reconcile_is_zero_every_month_and_shows_the_gateway_difference(
    loaded_project: ProjectConfig,
) -> None:
    result = pipeline.reconcile(Context(loaded_project))
    assert result.reconciled and result.months.height == 24
    october = result.months.filter(pl.col("month") == OCTOBER).row(0, named=True)
    parts = sum(
        (october[k] for k in ("direct", "shared", "amortized", "idle", "unallocated")), Decimal(0)
    )
    assert parts == october["effective"] and october["idle"] > 0 and october["shared"] > 0
    gateway = result.gateway.filter(pl.col("month") == OCTOBER).row(0, named=True)
    assert gateway["pool"] == "azure-openai"
    assert gateway["difference"] == gateway["billed"] - gateway["gateway"]


def test_unallocated_share_falls_once_pools_split_shared_cost(
    loaded_project: ProjectConfig,
) -> None:
    share = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT sum(amount) FILTER (WHERE model_id = '__unallocated__') / sum(amount) "
        "FROM allocated_costs WHERE month = '2026-10-01'",
    ).item()
    assert share < Decimal("0.15")  # 63.5% before pools; 10.5% with them


def _model(model_id: str, tag: str, workload: str) -> ModelConfig:
    return ModelConfig(
        model_id=model_id,
        name=model_id,
        owner="o",
        business_unit="b",
        stage="production",
        file=Path(f"{model_id}.toml"),
        selectors=ModelSelectors(
            tags=MappingProxyType({"ml-model": (tag,)}), gpu_workloads=(workload,)
        ),
    )


MODELS = (_model("a", "a", "wa"), _model("b", "b", "wb"))
POOL = PoolConfig(
    pool_id="p",
    title="p",
    file=Path("p.toml"),
    basis="direct_cost",
    claims=PoolClaims(tags=MappingProxyType({"team": ("shared",)})),
    usage=PoolUsage(),
)
line = st.fixed_dictionaries(
    {
        "month": st.sampled_from([date(2026, 1, 1), date(2026, 2, 1)]),
        "tag": st.sampled_from(["a", "b", None]),
        "team": st.sampled_from(["shared", None]),
        "amount": st.decimals(
            min_value=Decimal("-100"), max_value=Decimal("1000"), places=10, allow_nan=False
        ),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.slow
@given(st.lists(line, min_size=1, max_size=30))
def test_pools_conserve_cost_whatever_the_lines(
    tmp_path: Path, lines: list[dict[str, object]]
) -> None:
    """With a pool split by direct cost, Σ allocated = Σ source per month, exactly."""
    import json
    from datetime import UTC, datetime

    path = tmp_path / f"p{abs(hash(str(lines))) % 10**9}.duckdb"
    shutil.rmtree(data_dir(path), ignore_errors=True)
    path.unlink(missing_ok=True)
    rows = []
    for i, item in enumerate(lines):
        month = item["month"]
        assert isinstance(month, date)
        start = datetime(month.year, month.month, 1, tzinfo=UTC)
        tags = {k: v for k, v in (("ml-model", item["tag"]), ("team", item["team"])) if v}
        rows.append(
            {
                "provider": "AWS",
                "billing_account_id": "1",
                "billing_period_start": start,
                "billing_period_end": start,
                "charge_period_start": start,
                "charge_period_end": start,
                "charge_category": "Usage",
                "resource_id": f"r{i % 4}",
                "billed_cost": item["amount"],
                "effective_cost": item["amount"],
                "billing_currency": "USD",
                "tags": json.dumps(tags) if tags else None,
                "focus_version": "1.2",
                "export": "e",
                "delivery": "d",
                "source_file": "f",
                "source_row": i,
            }
        )
    frame = pl.DataFrame(
        rows,
        schema_overrides={"billed_cost": pl.Decimal(38, 10), "effective_cost": pl.Decimal(38, 10)},
    )
    with warehouse.open_warehouse(path) as con:
        store_lines(con, frame, "l")
        attribute_costs(con, MODELS, AttributionSettings(), pools=(POOL,))
        source = dict(
            warehouse.fetch_all(
                con,
                "SELECT billing_period_start::DATE, sum(effective_cost) FROM cost_lines GROUP BY 1",
            )
        )
        allocated = dict(
            warehouse.fetch_all(con, "SELECT month, sum(amount) FROM allocated_costs GROUP BY 1")
        )
        tagged = dict(
            warehouse.fetch_all(
                con,
                "SELECT billing_period_start::DATE, sum(effective_cost) FROM cost_lines "
                "WHERE tags['ml-model'] IN ('a', 'b') GROUP BY 1",
            )
        )
        direct = dict(
            warehouse.fetch_all(
                con,
                "SELECT month, sum(amount) FROM allocated_costs WHERE basis = 'direct' GROUP BY 1",
            )
        )
    assert allocated == source
    # A line a direct selector matches is never left unallocated or pooled.
    assert direct == tagged


def test_usage_on_a_loaded_bill_is_never_priced_again(loaded_project: ProjectConfig) -> None:
    # The sample's Bedrock requests are on the AWS bill (no pool splits it): not usage_costs.
    bedrock = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT count(*) FROM inference_usage WHERE provider = 'bedrock'",
    ).item()
    assert bedrock > 0
    priced = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path), "SELECT count(*) FROM usage_costs"
    )
    assert priced.item() == 0
