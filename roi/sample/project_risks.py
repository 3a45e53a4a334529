"""Failure modes of the sample models, per domain, for the models' `[[risks]]` tables."""

from __future__ import annotations

# Failure modes per domain, as TOML: name, kind, then each input as a point value, a PERT range
# [min, most likely, max] or a lognormal { median, sigma }.
RISKS: dict[str, tuple[dict[str, str], ...]] = {
    "fraud detection": (
        {
            "name": '"silent AUC decay after a fraud-pattern shift"',
            "kind": '"drift"',
            "frequency_per_year": "[1, 2, 4]",
            "metric_drop": "[0.01, 0.03, 0.06]",
            "detection_delay_days": "[7, 21, 45]",
            "fix_days": "[3, 7, 14]",
            "recovery_cost": "4000",
        },
        {
            "name": '"feature pipeline outage"',
            "kind": '"pipeline_failure"',
            "frequency_per_year": "1.0",
            "metric_drop": "[0.05, 0.15, 0.3]",
            "detection_delay_days": "[0.5, 2, 5]",
            "fix_days": "[0.5, 1, 3]",
            "recovery_cost": "3000",
        },
    ),
    "credit scoring": (
        {
            "name": '"population drift after a rate change"',
            "kind": '"drift"',
            "frequency_per_year": "0.5",
            "metric_drop": "[0.01, 0.04, 0.08]",
            "detection_delay_days": "[30, 60, 120]",
            "fix_days": "[7, 14, 30]",
            "recovery_cost": "12000",
        },
        {
            "name": '"EU AI Act: creditworthiness scoring is high-risk; an oversight failure"',
            "kind": '"compliance"',
            "tier": '"high_risk"',
            "frequency_per_year": "0.02",
            "fine_share": "[0.001, 0.01, 0.1]",
            "recovery_cost": "250000",
        },
    ),
    "churn prediction": (
        {
            "name": '"stale features from the CRM feed"',
            "kind": '"data_failure"',
            "frequency_per_year": "1.5",
            "metric_drop": "[0.02, 0.05, 0.1]",
            "detection_delay_days": "[10, 30, 60]",
            "fix_days": "[2, 5, 10]",
            "recovery_cost": "3000",
            "correlated_with": '["recommendations"]',
        },
    ),
    "demand forecasting": (
        {
            "name": '"holiday-pattern miss"',
            "kind": '"drift"',
            "frequency_per_year": "1.0",
            "metric_drop": "[0.03, 0.08, 0.15]",
            "detection_delay_days": "[2, 7, 14]",
            "fix_days": "[1, 3, 7]",
            "recovery_cost": "2000",
        },
    ),
    "recommendations": (
        {
            "name": '"catalogue change breaks embeddings"',
            "kind": '"data_failure"',
            "frequency_per_year": "2.0",
            "metric_drop": "[0.02, 0.06, 0.12]",
            "detection_delay_days": "[3, 10, 21]",
            "fix_days": "[2, 4, 10]",
            "recovery_cost": "3500",
        },
        {
            "name": '"customer feature store outage"',
            "kind": '"outage"',
            "frequency_per_year": "1.0",
            "detection_delay_days": "[0.1, 0.3, 1]",
            "fix_days": "[0.2, 0.5, 2]",
            "recovery_cost": "2000",
            "correlated_with": '["churn-prediction"]',
        },
    ),
    "predictive maintenance": (
        {
            "name": '"sensor firmware change"',
            "kind": '"data_failure"',
            "frequency_per_year": "0.5",
            "metric_drop": "[0.03, 0.1, 0.2]",
            "detection_delay_days": "[14, 45, 90]",
            "fix_days": "[3, 7, 21]",
            "recovery_cost": "6000",
        },
    ),
    "clinical triage": (
        {
            "name": '"guideline update not reflected"',
            "kind": '"drift"',
            "frequency_per_year": "0.5",
            "metric_drop": "[0.02, 0.05, 0.1]",
            "detection_delay_days": "[7, 30, 60]",
            "fix_days": "[7, 14, 30]",
            "recovery_cost": "20000",
        },
        {
            "name": '"EU AI Act: triage is a high-risk use; a conformity or logging failure"',
            "kind": '"compliance"',
            "tier": '"high_risk"',
            "frequency_per_year": "0.03",
            "fine_share": "[0.001, 0.01, 0.05]",
            "recovery_cost": "150000",
        },
    ),
    "LLM support assistant": (
        {
            "name": '"provider model version change"',
            "kind": '"drift"',
            "frequency_per_year": "2.0",
            "metric_drop": "[0.01, 0.04, 0.08]",
            "detection_delay_days": "[3, 14, 30]",
            "fix_days": "[1, 3, 7]",
            "recovery_cost": "2500",
        },
        {
            "name": '"prompt injection leaks a wrong policy answer"',
            "kind": '"adversarial"',
            "frequency_per_year": "[1, 3, 6]",
            "recovery_cost": "{ median = 4000, sigma = 1.0 }",
        },
    ),
    "document extraction": (
        {
            "name": '"new form layout"',
            "kind": '"data_failure"',
            "frequency_per_year": "1.0",
            "metric_drop": "[0.02, 0.07, 0.15]",
            "detection_delay_days": "[5, 20, 40]",
            "fix_days": "[3, 7, 14]",
            "recovery_cost": "4000",
        },
    ),
    "search ranking": (
        {
            "name": '"index schema change"',
            "kind": '"pipeline_failure"',
            "frequency_per_year": "1.0",
            "metric_drop": "[0.01, 0.05, 0.1]",
            "detection_delay_days": "[1, 5, 10]",
            "fix_days": "[1, 2, 5]",
            "recovery_cost": "1500",
        },
    ),
}
