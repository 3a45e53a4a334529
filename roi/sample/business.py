"""Business data of the sample: KPIs, the finance unit-value workbook, experiments, model metrics.

Model quality decays every month at a model-specific rate and jumps back at each retraining;
the business KPI a model moves follows its quality, so value and decay are linked the way the
scenario analyses expect.
"""

from __future__ import annotations

import io
import math
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


# Relative noise of a model's monthly KPI and volume where 4% (and 3%) would drown the
# difference its value is measured by (an outcome against a baseline of similar size).
KPI_NOISE = {"credit-scoring": 0.01, "predictive-maintenance": 0.012}
# Fraud: fraud cases a month at the end of the window, of which the detector catches `kpi`;
# alerts it raises on legitimate transactions (false positives) at full quality.
FRAUD_CASES = 80.0
FRAUD_FALSE_ALERTS = 950.0
# Credit: defaults the rule-based policy the scorecard replaced avoided, per application.
CREDIT_BASELINE_RATE = 0.0002
# Predictive maintenance: downtime hours the fixed maintenance schedule avoided before the model.
PDM_SCHEDULE_HOURS = 430.0
# Document extraction: the manual review cost of a page no model extracts (USD).
MANUAL_COST_PER_PAGE = 0.38
# Clinical triage: nurse hours a month in the pilot and the other clinics before the rollout.
TRIAGE_PILOT_HOURS = 1_400.0
TRIAGE_OTHER_HOURS = 2_100.0
DID_MODELS = {"clinical-triage"}


def _model_kpis(
    model: SampleModel, month: date, i: int, seed: int, rng: np.random.Generator
) -> list[tuple[object, ...]]:
    """One month of a model's KPIs: its outcome, its volume and what its value method needs."""
    volume_kpi, volume = VOLUMES[model.model_id]
    noise = KPI_NOISE.get(model.model_id, 0.04)
    window = months()
    growth = 0.75 + 0.25 * (i + 1) / len(window)
    quality = _quality(model, month, seed) ** 3  # value falls faster than the metric
    end = next_month(month)
    mid = model.model_id

    def row(kpi: str, value: float, unit: str) -> tuple[object, ...]:
        return (kpi, month, end, mid, "all", float(value), unit)

    served = round(volume * growth * rng.normal(1.0, min(noise, 0.03)))
    outcome = model.kpi_monthly * growth * quality * rng.normal(1.0, noise)
    rows = [] if mid in DID_MODELS else [row(model.kpi, round(outcome, 2), model.kpi_unit)]
    rows.append(row(volume_kpi, served, "count"))
    if mid == "fraud-detection":
        caught = round(outcome)
        cases = FRAUD_CASES * growth * rng.normal(1.0, 0.04)
        missed = max(round(cases) - caught, 0)
        false_alerts = round(FRAUD_FALSE_ALERTS * growth * (2 - quality) * rng.normal(1.0, 0.04))
        rows[0] = row(model.kpi, caught, model.kpi_unit)
        rows += [
            row("fraud_false_positives", false_alerts, "alerts"),
            row("fraud_false_negatives", missed, "cases"),
            row("fraud_true_negatives", served - caught - false_alerts - missed, "transactions"),
        ]
    elif mid == "predictive-maintenance":
        schedule = PDM_SCHEDULE_HOURS * growth * rng.normal(1.0, noise)
        rows.append(row("downtime_hours_avoided_by_schedule", round(schedule, 2), "hours"))
    elif mid == "document-extraction":
        residual = max(served - outcome, 0.0) * MANUAL_COST_PER_PAGE
        rows.append(row("residual_manual_review_cost", round(residual, 2), "USD"))
    return rows


def _triage_panel(model: SampleModel, rng: np.random.Generator) -> list[tuple[object, ...]]:
    """Nurse hours of the pilot clinics (triaged by the model from its launch) and the others."""
    rows: list[tuple[object, ...]] = []
    for i, month in enumerate(months()):
        common = (1 + 0.05 * math.sin(2 * math.pi * month.month / 12)) * (1 + 0.002 * i)
        effect = model.kpi_monthly if month >= model.launched else 0.0
        for segment, hours, saved in (
            ("pilot-clinics", TRIAGE_PILOT_HOURS, effect),
            ("other-clinics", TRIAGE_OTHER_HOURS, 0.0),
        ):
            value = hours * common * rng.normal(1.0, 0.007) - saved
            rows.append(
                (
                    model.kpi,
                    month,
                    next_month(month),
                    model.model_id,
                    segment,
                    round(value, 1),
                    "hours",
                )
            )
    return rows


def kpis_csv(seed: int) -> bytes:
    """Monthly business KPIs per model (value drivers and volumes) plus company-level KPIs."""
    rng = rng_for(seed, "kpis")
    rows: list[tuple[object, ...]] = []
    window = months()
    for model in SAMPLE_MODELS:
        for i, month in enumerate(window):
            if not live(model, month) and not live(model, next_month(month) - timedelta(days=1)):
                continue
            rows += _model_kpis(model, month, i, seed, rng)
        if model.model_id in DID_MODELS:
            rows += _triage_panel(model, rng)
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
        schema={
            "kpi": pl.String, "period_start": pl.Date, "period_end": pl.Date,
            "model_id": pl.String, "segment": pl.String, "value": pl.Float64, "unit": pl.String,
        },
        orient="row",
    )  # fmt: skip
    return frame.write_csv().encode("utf-8")


CLAIMS_FIRST_APPROVED = date(2026, 3, 1)


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
            if month < CLAIMS_FIRST_APPROVED and model.unit_value_kpi == "adjuster_hour_cost":
                continue  # FP&A approved the pilot's value a month after it started
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
        24,
        180_000,
        20_000,
        0.023,
        0.02,
    ),
    ("exp-churn-targeting", "churn-prediction", "retained_90d", 24, 8_000, 8_000, 0.684, 0.664),
    ("exp-search-rerank", "search-ranking", "search_success", 24, 18_000, 2_000, 0.634, 0.581),
    ("exp-assist-holdout", "support-assistant", "ticket_deflected", 24, 4_100, 460, 0.342, 0.214),
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
