"""Value methods and the per-model P&L, checked against computations done here from the inputs."""

from __future__ import annotations

import csv
import math
from datetime import date

import polars as pl
import pytest
from scipy import stats

from roi import pipeline
from roi.config import ProjectConfig, load_project
from roi.context import Context
from roi.errors import ConfigError
from roi.value.pnl import excel_npv, monthly_rate
from tests.helpers import number, of_type


def _frame(project: ProjectConfig, sql: str) -> pl.DataFrame:
    return pipeline.query(Context.for_warehouse(project.warehouse_path), sql)


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
           WHERE kpi IN ('defaults_avoided', 'applications_scored', 'avg_loss_given_default')
             AND (model_id = 'credit-scoring' OR model_id IS NULL)""",
    ).pivot(on="kpi", index="month", values="value")
    credit = next(m for m in loaded_project.models if m.model_id == "credit-scoring")
    assert credit.value is not None
    rate = credit.value.options.get("baseline")
    assert isinstance(rate, float) and rate > 0
    expected = kpi.select(
        "month",
        (
            (pl.col("defaults_avoided") - rate * pl.col("applications_scored"))
            * pl.col("avg_loss_given_default")
        ).alias("expected"),
    )
    got = _frame(
        loaded_project,
        "SELECT month, value, evidence, value_low FROM model_value "
        "WHERE model_id = 'credit-scoring'",
    ).join(expected, on="month")
    assert got.height == kpi.height
    assert number((got["value"] - got["expected"]).abs().max()) < 1e-6
    assert (
        set(got["evidence"]) == {"per_unit_baseline"}
        and got["value_low"].null_count() == got.height
    )
    gross = _frame(
        loaded_project,
        "SELECT DISTINCT evidence, basis FROM model_value WHERE model_id = 'aml-screening' "
        "AND value IS NOT NULL",
    )
    assert gross.rows() == [("assumption", "gross, no counterfactual")]


def test_every_production_model_has_cost_and_value_every_month_since_launch(
    loaded_project: ProjectConfig,
) -> None:
    roi = _frame(loaded_project, "SELECT * FROM model_roi")
    first = of_type(roi["month"].min(), date)
    last_month = of_type(roi["month"].max(), date)
    methods = set(_frame(loaded_project, "SELECT DISTINCT method FROM model_value")["method"])
    assert methods == {
        "per_unit",
        "ab_uplift",
        "did",
        "confusion_payoff",
        "cost_savings",
        "kpi_regression",
    }
    for model in loaded_project.models:
        if model.stage != "production":
            continue
        assert model.launched is not None
        since = max(model.launched.replace(day=1), first)
        rows = roi.filter((pl.col("model_id") == model.model_id) & (pl.col("month") >= since))
        months = {since}
        while max(months) < last_month:
            last = max(months)
            months.add(date(last.year + last.month // 12, last.month % 12 + 1, 1))
        assert set(rows["month"]) == months, model.model_id
        assert (rows["cost"] > 0).all(), model.model_id
        assert rows["value"].null_count() == 0 and rows["evidence"].null_count() == 0


def test_a_month_without_an_approved_unit_value_is_a_no_value_row(
    loaded_project: ProjectConfig,
) -> None:
    # FP&A approved the claims pilot's hourly value a month after it started (the workbook).
    rows = _frame(
        loaded_project,
        "SELECT month, value, reason FROM model_value WHERE model_id = 'claims-summarizer' "
        "ORDER BY month",
    )
    first = rows.row(0, named=True)
    assert first["value"] is None
    assert first["reason"].startswith("no value: no unit value adjuster_hour_cost")
    assert rows["value"][1:].null_count() == 0
    assert rows["reason"][1:].null_count() == rows.height - 1
    roi = _frame(
        loaded_project,
        f"SELECT net, value_reason FROM model_roi WHERE model_id = 'claims-summarizer' "
        f"AND month = '{first['month']}'",
    ).row(0, named=True)
    assert roi["net"] is None and roi["value_reason"] == first["reason"]


def test_model_roi_follows_from_cost_and_value(loaded_project: ProjectConfig) -> None:
    roi = _frame(loaded_project, "SELECT * FROM model_roi ORDER BY model_id, month")
    cost = _frame(
        loaded_project,
        "SELECT month, model_id, sum(amount)::DOUBLE AS c FROM model_costs "
        "WHERE currency = 'USD' GROUP BY ALL",
    )
    joined = roi.join(cost, on=["month", "model_id"], how="left")
    assert number((joined["cost"] - joined["c"].fill_null(0)).abs().max()) < 1e-6
    valued = roi.filter(pl.col("value").is_not_null())
    assert number((valued["net"] - (valued["value"] - valued["cost"])).abs().max()) < 1e-6
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
        unvalued = row["value"] is None and row["stage"] != "retired"
        assert ("value method missing" in flags[model_id]) == unvalued
    assert "retired but still costing" in flags["aml-screening"]
    aml = models.filter(pl.col("model_id") == "aml-screening").row(0, named=True)
    assert aml["value"] is None and aml["net"] == pytest.approx(-aml["cost"]) and aml["roi"] == -1
    assert total["net"] == pytest.approx(models["net"].sum())  # the retired model's loss too


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


def test_unit_economics_per_gpu_hour_and_per_million_tokens(loaded_project: ProjectConfig) -> None:
    roi = _frame(loaded_project, "SELECT * FROM model_roi WHERE month = '2026-10-01'")
    gpu_pools = [p.rule_id for p in loaded_project.pools if p.basis.startswith("gpu")]
    marks = ", ".join(f"'{r}'" for r in gpu_pools)
    held = _frame(
        loaded_project,
        f"SELECT model_id, sum(quantity) AS hours FROM allocation_bases WHERE month = '2026-10-01' "
        f"AND rule_id IN ({marks}) GROUP BY 1",
    )
    charged = _frame(
        loaded_project,
        f"SELECT model_id, sum(amount)::DOUBLE AS cost FROM allocated_costs "
        f"WHERE month = '2026-10-01' AND rule_id IN ({marks}) GROUP BY 1",
    )
    expected = held.join(charged, on="model_id").with_columns(
        per_hour=pl.col("cost") / pl.col("hours")
    )
    got = roi.join(expected, on="model_id")
    assert got.height >= 5
    assert number((got["cost_per_gpu_hour"] - got["per_hour"]).abs().max()) < 1e-9
    llm = _frame(
        loaded_project,
        "SELECT model_id, 1e6 * sum(cost) / sum(tokens) AS per_1m FROM llm_unit_costs "
        "WHERE month = '2026-10-01' GROUP BY 1",
    )
    tokens = roi.join(llm, on="model_id")
    assert set(tokens["model_id"]) == {
        "support-assistant",
        "document-extraction",
        "claims-summarizer",
    }
    assert number((tokens["cost_per_1m_tokens"] - tokens["per_1m"]).abs().max()) < 1e-9
