"""Cost attribution: exact per-month conservation, selector precedence, conflicts, reasons."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roi import pipeline, warehouse
from roi.attribution.engine import attribute_costs
from roi.attribution.ledger import glob_regex, tag_column
from roi.attribution.rules.direct import match_models
from roi.config import AttributionSettings, ModelConfig, ModelSelectors, ProjectConfig
from roi.context import Context
from roi.loading.billing_files import store_lines
from roi.vocabulary import UNALLOCATED
from roi.warehouse.cost_store import data_dir


def test_allocated_equals_source_total_to_the_cent_every_month(
    loaded_project: ProjectConfig,
) -> None:
    rows = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        """WITH source AS (SELECT date_trunc('month', billing_period_start)::DATE AS month,
                                  sum(effective_cost) AS total FROM cost_lines GROUP BY 1),
                allocated AS (SELECT month, sum(amount) AS total FROM allocated_costs GROUP BY 1)
           SELECT s.month, s.total AS source, a.total AS allocated
           FROM source s FULL JOIN allocated a USING (month) ORDER BY 1""",
    ).rows()
    assert len(rows) == 24
    for month, source, allocated in rows:
        assert allocated == source, month
        assert round(allocated, 2) == round(source, 2)


def _assign(lines: pl.DataFrame, models: tuple[ModelConfig, ...]) -> pl.DataFrame:
    """Each line's winning model, the rule and every model that matched (direct stage)."""
    groups = lines.with_row_index("group_id")
    matches = match_models(groups, models)
    return groups.join(matches, on="group_id", how="left").select(
        pl.col("winner").fill_null(UNALLOCATED).alias("model_id"),
        pl.when(pl.col("winner").is_null())
        .then(pl.lit("unmatched"))
        .otherwise(pl.concat_str([pl.col("winner"), pl.col("kind")], separator=":"))
        .alias("rule_id"),
        pl.col("matched").fill_null([]).alias("matched_models"),
    )


def test_every_model_gets_cost_and_what_no_rule_places_has_a_reason(
    loaded_project: ProjectConfig,
) -> None:
    by_model = dict(
        pipeline.query(
            Context.for_warehouse(loaded_project.warehouse_path),
            "SELECT model_id, sum(amount) FROM allocated_costs WHERE month = '2026-10-01' GROUP BY 1",
        ).rows()
    )
    live = {m.model_id for m in loaded_project.models if m.stage != "retired"}
    assert live <= {k for k, v in by_model.items() if v > 0}
    assert by_model["aml-screening"] > 0  # retired, but its archive bucket still bills
    reasons = dict(
        pipeline.query(
            Context.for_warehouse(loaded_project.warehouse_path),
            "SELECT reason, sum(amount) FROM unallocated_costs WHERE month = '2026-10-01' GROUP BY 1",
        ).rows()
    )
    assert set(reasons) >= {
        "untagged",
        "tagged, but no model selector or pool matches",
        "model tag value matches no model",
        "not a resource charge (tax)",
    }
    assert sum(reasons.values()) == by_model[UNALLOCATED]


def test_tag_beats_resource_pattern_and_conflict_is_reported(loaded_project: ProjectConfig) -> None:
    conflicts = pipeline.query(
        Context.for_warehouse(loaded_project.warehouse_path),
        "SELECT DISTINCT resource_id, matched_models, chosen_model FROM attribution_conflicts",
    ).rows()
    assert conflicts == [
        (
            "arn:aws:sagemaker:us-east-1:210987654321:endpoint/credit-fraud-check",
            ["fraud-detection", "credit-scoring"],
            "fraud-detection",
        )
    ]


def test_one_month_reattribution_leaves_other_months(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(loaded_project.warehouse_path.read_bytes())
    source_data = data_dir(loaded_project.warehouse_path)
    shutil.copytree(source_data, data_dir(copy))  # a warehouse moves with its data folder
    sql = (
        "SELECT month, sum(amount), any_value(attribution_id) FROM allocated_costs "
        "GROUP BY 1 ORDER BY 1"
    )
    before = pipeline.query(Context.for_warehouse(copy), sql).rows()
    with warehouse.open_warehouse(copy) as con:
        result = attribute_costs(
            con, loaded_project.models, loaded_project.attribution, date(2026, 9, 1)
        )
    assert result.months == [date(2026, 9, 1)]
    after = pipeline.query(Context.for_warehouse(copy), sql).rows()
    assert len(after) == len(before) == 24
    for old, new in zip(before, after, strict=True):
        assert new[:2] == old[:2]  # the same money in every month
        rebuilt = new[2] == result.attribution_id
        assert rebuilt == (new[0] == date(2026, 9, 1)), new[0]  # and only September rebuilt


def _model(
    model_id: str,
    priority: int = 100,
    tags: tuple[str, ...] = (),
    resources: tuple[str, ...] = (),
    accounts: tuple[str, ...] = (),
) -> ModelConfig:
    return ModelConfig(
        model_id=model_id,
        name=model_id,
        owner="o",
        business_unit="b",
        stage="production",
        file=Path(f"models/{model_id}.toml"),
        selectors=ModelSelectors(
            priority=priority,
            tags=MappingProxyType({"ml-model": tags} if tags else {}),
            resource_ids=resources,
            sub_accounts=accounts,
        ),
    )


def test_selector_precedence() -> None:
    lines = pl.DataFrame(
        {
            "resource_id": ["arn:x:endpoint/credit-a", "arn:x:endpoint/credit-b", "vm-1", None],
            "sub_account_id": ["111", "111", "222", "222"],
            tag_column("ml-model"): ["fraud", None, None, None],
        }
    )
    models = (
        _model("credit", resources=("arn:x:endpoint/credit-*",), accounts=("111",)),
        _model("fraud", tags=("fraud",)),
        _model("platform", priority=200, accounts=("222",)),
        _model("ops", priority=150, accounts=("222",)),
    )
    out = _assign(lines, models).rows()
    assert out == [
        ("fraud", "fraud:tag", ["fraud", "credit"]),
        ("credit", "credit:resource", ["credit"]),
        ("ops", "ops:sub_account", ["ops", "platform"]),
        ("ops", "ops:sub_account", ["ops", "platform"]),
    ]
    assert glob_regex("arn:*:bucket/a?c") == r"^arn:.*:bucket/a.c$"


MODELS = (
    _model("a", tags=("a", "alias-a")),
    _model("b", priority=10, resources=("res-1*",)),
    _model("c", accounts=("acct-2",)),
)
line = st.fixed_dictionaries(
    {
        "month": st.sampled_from([date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]),
        "resource_id": st.sampled_from(["res-10", "res-2", "other", None]),
        "sub_account_id": st.sampled_from(["acct-1", "acct-2", None]),
        "tag": st.sampled_from(["a", "ALIAS-A ", "b", None]),
        "category": st.sampled_from(["Usage", "Usage", "Tax", "Credit", "Purchase"]),
        "amount": st.decimals(
            min_value=Decimal("-500"),
            max_value=Decimal("5000"),
            places=10,
            allow_nan=False,
            allow_infinity=False,
        ),
    }
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.slow
@given(st.lists(line, min_size=1, max_size=40), st.randoms())
def test_attribution_conserves_cost_whatever_the_lines(
    tmp_path: Path, lines: list[dict[str, object]], rnd: object
) -> None:
    """Σ allocated = Σ source per month, exactly, and the result ignores input row order."""
    path = tmp_path / f"w{abs(hash(str(lines))) % 10**9}.duckdb"
    path.unlink(missing_ok=True)
    rows = []
    for i, item in enumerate(lines):
        month = item["month"]
        assert isinstance(month, date)
        start = datetime(month.year, month.month, 1, tzinfo=UTC)
        tags = {"ml-model": item["tag"]} if item["tag"] else None
        rows.append(
            {
                "provider": "AWS",
                "billing_account_id": "1",
                "billing_period_start": start,
                "billing_period_end": start,
                "charge_period_start": start,
                "charge_period_end": start,
                "charge_category": item["category"],
                "resource_id": item["resource_id"],
                "sub_account_id": item["sub_account_id"],
                "billed_cost": item["amount"],
                "effective_cost": item["amount"],
                "billing_currency": "USD",
                "tags": json.dumps({"ml-model": str(tags["ml-model"])}) if tags else None,
                "focus_version": "1.2",
                "export": "",
                "delivery": "",
                "source_file": "f",
                "source_row": i,
                "_load_id": "l",
            }
        )
    frame = pl.DataFrame(
        rows,
        schema_overrides={"billed_cost": pl.Decimal(38, 10), "effective_cost": pl.Decimal(38, 10)},
    )
    import random

    assert isinstance(rnd, random.Random)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=rnd.randint(0, 2**31))
    results = []
    for batch in (frame, shuffled):
        path.unlink(missing_ok=True)
        shutil.rmtree(data_dir(path), ignore_errors=True)
        with warehouse.open_warehouse(path) as con:
            store_lines(con, batch, "l")
            attribute_costs(con, MODELS, AttributionSettings())
            results.append(
                warehouse.fetch_all(
                    con,
                    "SELECT month, model_id, cost_type, sum(amount) FROM allocated_costs GROUP BY ALL ORDER BY ALL",
                )
            )
            source = dict(
                warehouse.fetch_all(
                    con,
                    "SELECT date_trunc('month', billing_period_start)::DATE, sum(effective_cost) FROM cost_lines GROUP BY 1",
                )
            )
            allocated = dict(
                warehouse.fetch_all(
                    con, "SELECT month, sum(amount) FROM allocated_costs GROUP BY 1"
                )
            )
            assert allocated == source
    assert results[0] == results[1]
    path.unlink(missing_ok=True)


def test_negative_priorities_and_similar_tag_keys() -> None:
    lines = pl.DataFrame(
        {
            "resource_id": ["r-1"],
            "sub_account_id": ["acct"],
            tag_column("cost-center"): ["payments"],
            tag_column("cost_center"): ["lending"],
        }
    )
    first = ModelConfig(
        model_id="first",
        name="f",
        owner="o",
        business_unit="b",
        stage="production",
        file=Path("first.toml"),
        selectors=ModelSelectors(
            priority=-10, tags=MappingProxyType({"cost-center": ("payments",)})
        ),
    )
    second = ModelConfig(
        model_id="second",
        name="s",
        owner="o",
        business_unit="b",
        stage="production",
        file=Path("second.toml"),
        selectors=ModelSelectors(priority=-5, tags=MappingProxyType({"cost_center": ("lending",)})),
    )
    out = _assign(lines, (second, first)).select("model_id", "matched_models").rows()
    assert out == [("first", ["first", "second"])]  # -10 beats -5
