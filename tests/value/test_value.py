"""Value methods and the per-model P&L, checked against computations done here from the inputs."""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from scipy import stats

from roi import pipeline, warehouse
from roi.config import ProjectConfig, load_project
from roi.config.models import ConfusionPayoffValue, CostSavingsValue, DidValue
from roi.context import Context
from roi.errors import ConfigError
from roi.value.inputs import ValueInputs
from roi.value.methods import confusion_payoff, cost_savings, did
from roi.value.pnl import excel_npv, monthly_rate


def _frame(project: ProjectConfig, sql: str) -> pl.DataFrame:
    return pipeline.query(project.warehouse_path, sql)


def test_ab_uplift_is_the_welch_interval_of_the_arms_scaled_to_the_treated_units(
    loaded_project: ProjectConfig,
) -> None:
    arms_file = loaded_project.root / "sample_data/experiments/ab_tests.csv"
    with arms_file.open() as f:
        arms = [r for r in csv.DictReader(f) if r["experiment_id"] == "exp-assist-holdout"]
    month = "2026-10-01"
    t = next(r for r in arms if r["period_start"] == month and r["variant"] == "treatment")
    c = next(r for r in arms if r["period_start"] == month and r["variant"] == "control")
    mt, st, nt = float(t["mean"]), float(t["std_dev"]), float(t["units"])
    mc, sc, nc = float(c["mean"]), float(c["std_dev"]), float(c["units"])
    vt, vc = st**2 / nt, sc**2 / nc
    dof = (vt + vc) ** 2 / (vt**2 / (nt - 1) + vc**2 / (nc - 1))
    half = stats.t.ppf(0.95, dof) * math.sqrt(vt + vc)  # 90% two-sided
    unit = _frame(
        loaded_project,
        "SELECT value FROM kpi_values WHERE kpi = 'cost_per_support_ticket' "
        f"AND period_start = '{month}'",
    ).item()
    row = _frame(
        loaded_project,
        "SELECT value, value_low, value_high, evidence, volume FROM model_value "
        f"WHERE model_id = 'support-assistant' AND month = '{month}'",
    ).row(0, named=True)
    assert row["evidence"] == "experiment" and row["volume"] == nt
    assert row["value"] == pytest.approx((mt - mc) * nt * unit, rel=1e-9)
    assert row["value_low"] == pytest.approx((mt - mc - half) * nt * unit, rel=1e-9)
    assert row["value_high"] == pytest.approx((mt - mc + half) * nt * unit, rel=1e-9)


def test_per_unit_against_a_baseline_rate_and_gross_without_one(
    loaded_project: ProjectConfig,
) -> None:
    kpi = _frame(
        loaded_project,
        """SELECT period_start AS month, kpi, value FROM kpi_values
           WHERE model_id = 'fraud-detection' AND kpi IN
             ('fraud_cases_caught', 'transactions_scored', 'avg_fraud_loss_per_case')""",
    ).pivot(on="kpi", index="month", values="value")
    fraud = next(m for m in loaded_project.models if m.model_id == "fraud-detection").value
    assert fraud is not None and getattr(fraud, "baseline", None) == 1.5e-5
    expected = kpi.select(
        "month",
        (
            (pl.col("fraud_cases_caught") - 1.5e-5 * pl.col("transactions_scored"))
            * pl.col("avg_fraud_loss_per_case")
        ).alias("expected"),
    )
    got = _frame(
        loaded_project,
        "SELECT month, value, evidence, value_low FROM model_value "
        "WHERE model_id = 'fraud-detection'",
    ).join(expected, on="month")
    assert got.height == kpi.height
    assert (got["value"] - got["expected"]).abs().max() < 1e-6
    assert (
        set(got["evidence"]) == {"per_unit_baseline"}
        and got["value_low"].null_count() == got.height
    )
    gross = _frame(
        loaded_project,
        "SELECT DISTINCT evidence, basis FROM model_value WHERE model_id = 'credit-scoring'",
    )
    assert gross.rows() == [("assumption", "gross, no counterfactual")]


def test_model_roi_follows_from_cost_and_value(loaded_project: ProjectConfig) -> None:
    roi = _frame(loaded_project, "SELECT * FROM model_roi ORDER BY model_id, month")
    cost = _frame(
        loaded_project,
        "SELECT month, model_id, sum(amount)::DOUBLE AS c FROM model_costs "
        "WHERE currency = 'USD' GROUP BY ALL",
    )
    joined = roi.join(cost, on=["month", "model_id"], how="left")
    assert (joined["cost"] - joined["c"].fill_null(0)).abs().max() < 1e-6
    valued = roi.filter(pl.col("value").is_not_null())
    assert (valued["net"] - (valued["value"] - valued["cost"])).abs().max() < 1e-6
    rate = monthly_rate(loaded_project.finance.discount_rate)
    for (model_id,), part in valued.group_by("model_id"):
        nets = part.sort("month")["net"].to_list()
        last = part.sort("month").row(-1, named=True)
        assert last["cumulative_net"] == pytest.approx(sum(nets))
        assert last["npv"] == pytest.approx(
            sum(n / (1 + rate) ** (t + 1) for t, n in enumerate(nets))
        )
        running, payback = 0.0, None
        for month, net in zip(part.sort("month")["month"], nets, strict=True):
            running += net
            if payback is None and running >= 0:
                payback = month
        assert last["payback_month"] == payback, model_id
    # p_negative reads the value's interval as a normal one at its level; cost is exact.
    row = roi.filter(
        (pl.col("model_id") == "recommendations") & (pl.col("month") == date(2026, 10, 1))
    ).row(0, named=True)
    sd = (row["value_high"] - row["value_low"]) / (2 * stats.norm.ppf(0.95))
    assert row["p_negative"] == pytest.approx(stats.norm.cdf((row["cost"] - row["value"]) / sd))


def test_excel_npv_convention() -> None:
    # Excel: =NPV(10%, 30000, 40000, 50000, 20000) - 100000 = 11,556.59 (methods.md §9).
    assert excel_npv(0.10, [30_000, 40_000, 50_000, 20_000]) - 100_000 == pytest.approx(
        11_556.59, abs=0.01
    )
    assert monthly_rate(0.10) == pytest.approx(1.1 ** (1 / 12) - 1)


def test_portfolio_flags_and_totals(loaded_project: ProjectConfig) -> None:
    view = pipeline.portfolio(Context(loaded_project), date(2026, 10, 1))
    models = view.filter(pl.col("model_id") != "TOTAL")
    total = view.filter(pl.col("model_id") == "TOTAL").row(0, named=True)
    assert total["cost"] == pytest.approx(models["cost"].sum())
    assert total["value"] == pytest.approx(models["value"].drop_nulls().sum())
    flags = dict(zip(models["model_id"], models["flags"], strict=True))
    for model_id, row in zip(models["model_id"], models.iter_rows(named=True), strict=True):
        assert ("negative ROI" in flags[model_id]) == (row["net"] is not None and row["net"] < 0)
        straddles = (
            row["value_low"] is not None and row["value_low"] < row["cost"] < row["value_high"]
        )
        assert ("ROI interval straddles zero" in flags[model_id]) == straddles
        assert ("value method missing" in flags[model_id]) == (row["value"] is None)
    assert "retired but still costing" in flags["aml-screening"]


@pytest.mark.slow
def test_a_value_input_that_does_not_exist_is_an_error_naming_file_and_key(
    project: ProjectConfig,
) -> None:
    model = project.root / "models" / "churn-prediction.toml"
    model.write_text(model.read_text().replace('kpi = "retained_90d"', 'kpi = "retained_09d"'))
    config = load_project(project.root)
    pipeline.load(Context(config))
    with pytest.raises(ConfigError) as err:
        pipeline.attribute(Context(config))
    message = str(err.value)
    assert "churn-prediction.toml" in message and "'value.kpi'" in message
    assert "retained_90d" in message  # what the experiment does have


def _kpis(path: Path, rows: list[dict[str, object]]) -> warehouse.Connection:
    con = warehouse.connect(path)
    frame = pl.DataFrame(
        [
            {
                "model_id": "m",
                "segment": "all",
                "experiment_id": None,
                "unit": None,
                "source_file": "t.csv",
                "source_row": i,
                "_load_id": "L1",
                **r,
            }
            for i, r in enumerate(rows)
        ],
        infer_schema_length=None,
    )
    with warehouse.registered(con, "_k", frame):
        warehouse.execute(con, "INSERT INTO kpi_values BY NAME SELECT * FROM _k")
    return con


def _month(i: int) -> tuple[date, date]:
    start = date(2025 + (i // 12), i % 12 + 1, 1)
    end = date(2025 + ((i + 1) // 12), (i + 1) % 12 + 1, 1)
    return start, end


def test_did_recovers_a_known_effect(tmp_path: Path) -> None:
    rows = []
    for i in range(12):
        start, end = _month(i)
        post = i >= 6
        wiggle = (-1) ** i * 0.5
        for segment, level in (("north", 100.0 + (8.0 if post else 0.0)), ("south", 90.0)):
            rows.append(
                {"kpi": "sales", "period_start": start, "period_end": end, "segment": segment,
                 "value": level + wiggle + (2.0 if post else 0.0)}
            )  # fmt: skip
        rows.append(
            {
                "kpi": "margin",
                "period_start": start,
                "period_end": end,
                "value": 10.0,
                "unit": "USD",
            }
        )
    con = _kpis(tmp_path / "w.duckdb", rows)
    spec = DidValue("did", "sales", "north", "south", date(2025, 7, 1), unit_value_kpi="margin")
    out = did.value(spec, ValueInputs(con, "m", Path("models/m.toml")), "USD")
    assert out.height == 6 and set(out["evidence"]) == {"quasi_experiment"}
    assert out["value"].to_list() == pytest.approx([80.0] * 6)  # effect 8 × 10 USD
    assert (out["value_low"] < 80).all() and (out["value_high"] > 80).all()


def test_cost_savings_and_confusion_payoff(tmp_path: Path) -> None:
    rows = []
    for i in range(3):
        start, end = _month(i)
        for kpi, value in (("tickets", 100.0 * (i + 1)), ("residual", 50.0), ("tp", 10.0),
                           ("fp", 4.0), ("fn", 2.0)):  # fmt: skip
            rows.append({"kpi": kpi, "period_start": start, "period_end": end, "value": value})
    con = _kpis(tmp_path / "w.duckdb", rows)
    inputs = ValueInputs(con, "m", Path("models/m.toml"))
    savings = cost_savings.value(
        CostSavingsValue("cost_savings", "tickets", unit_value=7.5, actual_cost_kpi="residual"),
        inputs,
        "USD",
    )
    assert savings["value"].to_list() == pytest.approx([700.0, 1450.0, 2200.0])
    payoff = confusion_payoff.value(
        ConfusionPayoffValue("confusion_payoff", "tp", "fp", "fn", 500.0, -20.0, -300.0),
        inputs,
        "USD",
    )
    assert payoff["value"].to_list() == pytest.approx([10 * 500 - 4 * 20 - 2 * 300] * 3)
    assert payoff["volume"].to_list() == [16.0] * 3
    assert all(ids == ["L1"] for ids in payoff["load_ids"].to_list())
