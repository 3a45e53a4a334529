"""Business data of the sample: KPIs, the finance unit-value workbook, experiments, model metrics.

Model quality decays every month at a model-specific rate and jumps back at each retraining;
the business KPI a model moves follows its quality, so value and decay are linked the way the
scenario analyses expect.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from roi.connectors.ab_tests import COLUMNS as AB_TEST_COLUMNS
from roi.sample.portfolio import (
    FIRST_MONTH,
    LAST_MONTH,
    SAMPLE_MODELS,
    SampleModel,
    live,
    months,
    next_month,
)
from roi.sample.rng import rng_for

# Monthly volume of predictions (or requests) per model at the end of the window.
VOLUMES: dict[str, tuple[str, float]] = {
    "fraud-detection": ("transactions_scored", 9_500_000),
    "credit-scoring": ("applications_scored", 4_100),
    "churn-prediction": ("customers_scored", 1_200_000),
    "demand-forecast": ("atm_forecasts", 96_000),
    "recommendations": ("recommendations_served", 14_000_000),
    "predictive-maintenance": ("atm_days_scored", 96_000),
    "clinical-triage": ("cases_triaged", 6_200),
    "support-assistant": ("conversations", 4_600),
    "document-extraction": ("pages_processed", 52_000),
    "search-ranking": ("searches_ranked", 410_000),
    "aml-screening": ("transactions_screened", 2_100_000),
    "claims-summarizer": ("claims_summarized", 800),
}


def metric_history(model: SampleModel, rng: np.random.Generator) -> list[tuple[date, float, str]]:
    """Weekly (day, value, model version) of the model's primary metric: decay, then retraining."""
    start = max(model.launched, FIRST_MONTH - timedelta(days=60))
    end = next_month(LAST_MONTH)
    if model.retired:
        end = min(end, model.retired)
    day = start + timedelta(days=(7 - start.weekday()) % 7)  # Mondays
    version = 1 + (start - model.launched).days // (30 * model.retrain_every_months)
    trained = day
    best = model.metric_start
    out = []
    while day < end:
        months_since = (day - trained).days / 30.44
        if months_since >= model.retrain_every_months:
            version += 1
            trained = day
            best = min(best + rng.normal(0.002, 0.003), 0.995)
            months_since = 0.0
        value = best - model.monthly_decay * months_since + rng.normal(0, model.monthly_decay / 3)
        out.append((day, float(np.clip(value, 0.0, 1.0)), f"v{version}"))
        day += timedelta(days=7)
    return out


def model_metrics_csv(seed: int) -> bytes:
    """`model_id,metric,ts,value,model_version` for every model."""
    rows = []
    for model in SAMPLE_MODELS:
        rng = rng_for(seed, f"metrics-{model.model_id}")
        for day, value, version in metric_history(model, rng):
            ts = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=6)
            rows.append(
                (
                    model.model_id,
                    model.metric,
                    ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    f"{value:.4f}",
                    version,
                )
            )
    frame = pl.DataFrame(
        rows, schema=["model_id", "metric", "ts", "value", "model_version"], orient="row"
    )
    return frame.write_csv().encode("utf-8")


def _quality(model: SampleModel, month: date, seed: int) -> float:
    history = metric_history(model, rng_for(seed, f"metrics-{model.model_id}"))
    values = [v for d, v, _ in history if month <= d < next_month(month)]
    if not values:
        return 1.0
    return float(np.mean(values)) / model.metric_start


def kpis_csv(seed: int) -> bytes:
    """Monthly business KPIs per model (value drivers and volumes) plus company-level KPIs."""
    rng = rng_for(seed, "kpis")
    rows: list[tuple[object, ...]] = []
    window = months()
    for model in SAMPLE_MODELS:
        volume_kpi, volume = VOLUMES[model.model_id]
        for i, month in enumerate(window):
            if not live(model, month) and not live(model, next_month(month) - timedelta(days=1)):
                continue
            growth = 0.75 + 0.25 * (i + 1) / len(window)
            quality = _quality(model, month, seed) ** 3  # value falls faster than the metric
            value = model.kpi_monthly * growth * quality * rng.normal(1.0, 0.04)
            end = next_month(month)
            rows.append(
                (model.kpi, month, end, model.model_id, "all", round(value, 2), model.kpi_unit)
            )
            served = volume * growth * rng.normal(1.0, 0.03)
            rows.append((volume_kpi, month, end, model.model_id, "all", round(served), "count"))
    for i, month in enumerate(window):
        rows.append(
            (
                "card_transactions",
                month,
                next_month(month),
                None,
                "all",
                round(11_200_000 * (1 + 0.01 * i) * rng.normal(1, 0.02)),
                "count",
            )
        )
        rows.append(
            (
                "active_customers",
                month,
                next_month(month),
                None,
                "all",
                round(1_310_000 * (1 + 0.004 * i)),
                "customers",
            )
        )
    frame = pl.DataFrame(
        rows,
        schema=["kpi", "period_start", "period_end", "model_id", "segment", "value", "unit"],
        orient="row",
    )
    return frame.write_csv().encode("utf-8")


def finance_workbook(seed: int) -> bytes:
    """FP&A's unit-value workbook: a wide sheet, one row per value driver, one column per month."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    rng = rng_for(seed, "finance-workbook")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Unit values"
    ws["A1"] = "Northwind — value per business outcome (USD), approved by FP&A"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = "Source: FP&A planning model v7; last approval 2026-11-05. Blank = not yet approved."
    window = months()
    header_row = 4
    ws.cell(header_row, 1, "KPI")
    ws.cell(header_row, 2, "Model")
    ws.cell(header_row, 3, "Unit")
    for c, month in enumerate(window, 4):
        cell = ws.cell(header_row, c, month)
        cell.number_format = "mmm yyyy"
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
    seen: set[str] = set()
    r = header_row
    for model in SAMPLE_MODELS:
        if not model.unit_value_kpi or model.unit_value_kpi in seen:
            continue
        seen.add(model.unit_value_kpi)
        r += 1
        shared = sum(1 for m in SAMPLE_MODELS if m.unit_value_kpi == model.unit_value_kpi) > 1
        ws.cell(r, 1, model.unit_value_kpi)
        ws.cell(r, 2, None if shared else model.model_id)
        ws.cell(r, 3, "USD")
        drift = 1.0
        for c, month in enumerate(window, 4):
            drift *= 1 + rng.normal(0.002, 0.004)
            if month == LAST_MONTH and model.unit_value_kpi == "nurse_hour_cost":
                continue  # the last month is not approved yet
            ws.cell(r, c, round(model.unit_value * drift, 4 if model.unit_value < 1 else 2))
    total = r + 1
    ws.cell(total, 1, "Total")
    for c in range(4, 4 + len(window)):
        col = ws.cell(header_row, c).column_letter
        ws.cell(total, c, f"=SUM({col}{header_row + 1}:{col}{r})")
    ws.column_dimensions["A"].width = 32
    notes = wb.create_sheet("Notes")
    notes["A1"] = "Unit values feed the ML value model; questions to fpa@northwind.example."
    wb.properties.creator = "FP&A"
    approved = datetime(2026, 11, 5, 9, 0, tzinfo=UTC).replace(tzinfo=None)  # Excel: naive
    wb.properties.created = approved
    wb.properties.modified = approved
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# Experiments: (experiment id, model, KPI, months, treatment units, control units, p_t, p_c).
EXPERIMENTS = (
    (
        "exp-recs-holdout",
        "recommendations",
        "purchase_conversion",
        12,
        950_000,
        50_000,
        0.0212,
        0.0200,
    ),
    ("exp-churn-targeting", "churn-prediction", "retained_90d", 12, 18_000, 6_000, 0.712, 0.664),
    ("exp-search-rerank", "search-ranking", "search_success", 6, 180_000, 20_000, 0.634, 0.581),
    ("exp-assist-holdout", "support-assistant", "ticket_deflected", 12, 4_100, 460, 0.342, 0.214),
)


def ab_tests_csv(seed: int) -> bytes:
    """Per-arm results of the model holdouts and experiments, one row per arm and month."""
    rng = rng_for(seed, "ab-tests")
    rows = []
    for exp_id, model_id, kpi, n_months, n_t, n_c, p_t, p_c in EXPERIMENTS:
        for month in months()[-n_months:]:
            for variant, n, p in (("treatment", n_t, p_t), ("control", n_c, p_c)):
                units = int(n * rng.normal(1, 0.03))
                observed = rng.binomial(units, p) / units
                rows.append(
                    (
                        exp_id,
                        model_id,
                        kpi,
                        month,
                        next_month(month),
                        variant,
                        units,
                        round(observed, 6),
                        round(float(np.sqrt(observed * (1 - observed))), 6),
                        "ratio",
                    )
                )
    frame = pl.DataFrame(
        rows,
        schema=[*AB_TEST_COLUMNS, "std_dev", "unit"],  # the format the ab_test_csv connector reads
        orient="row",
    )
    return frame.write_csv().encode("utf-8")
